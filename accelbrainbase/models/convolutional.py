"""The backend-neutral half of the convolutional models: hyper-parameters, checks, losses per
batch, the contractive penalty's chain rule and the pulling-away term.
``accelbrainbase.torch.convolutional`` and ``accelbrainbase.mxnet.convolutional`` add only the
framework's layers and ``forward`` / ``hybrid_forward``.

Images are channels-first (N, C, H, W). A model built with ``flat=True`` takes the same images
flattened row-major, (N, C*H*W), and reshapes them itself (its output is flat again): this is
how the image models join settings whose data are flat vectors (``compare representation`` on
flat digits, the contract tests); :func:`image_shape_for` picks the image of ``n_features``.

Canonical state names (both backends): ``encoder.convs.<i>.weight`` (out, in, k, k) / ``.bias``,
``encoder.norms.<i>.{weight,bias,running_mean,running_var}``, ``encoder.shortcuts.<j>.weight``
(1x1, residual blocks whose width changes), ``encoder.head.<i>.weight`` (out, in) / ``.bias``;
auto-encoders add ``decoder.expand.*``, ``decoder.deconvs.<i>.weight`` (in, out, k, k) / ``.bias``
and ``decoder.norms.<i>.*``; with ``tied_weights=True`` only ``decoder.expand.bias`` and
``decoder.deconvs.<i>.bias`` (the weights are the encoder's).
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError
from accelbrainbase.core.interfaces import Batch
from accelbrainbase.core.learner import Learner, SupervisedLearner
from accelbrainbase.models.networks import ACTIVATIONS, PenultimateFeaturesMixin
from accelbrainbase.core.validation import check_choice, check_fraction, check_positive

POOLING = (None, "max", "avg")
#: activations whose derivative the contractive penalty knows (from pre- and post-activation)
DIFFERENTIABLE = ("identity", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softplus")


def image_shape_for(n_features: int) -> tuple:
    """The single-channel image (1, h, w) of ``n_features`` pixels with h the largest divisor
    not above sqrt(n): 64 -> (1, 8, 8), 784 -> (1, 28, 28), 12 -> (1, 3, 4)."""
    n = check_positive("n_features", n_features, integer=True)
    h = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return (1, h, n // h)


def check_image_shape(image_shape) -> tuple:
    if not isinstance(image_shape, (list, tuple)) or len(image_shape) != 3:
        raise InputError(f"image_shape must be (channels, height, width), got {image_shape!r}")
    return tuple(check_positive(f"image_shape[{i}]", v, integer=True) for i, v in enumerate(image_shape))


def activation_derivative(ops, name: str, z, a):
    """d act(z) / dz elementwise from the pre-activation ``z`` and the activation ``a``; ``None``
    for the identity. Written with operators both backends share (comparisons give 0/1)."""
    if name == "identity":
        return None
    if name == "relu":
        return (z > 0) * 1.0
    if name == "leaky_relu":
        pos = (z > 0) * 1.0
        return pos + 0.01 * (1.0 - pos)
    if name == "elu":
        pos = (z > 0) * 1.0
        return pos + (1.0 - pos) * (a + 1.0)
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "softplus":
        return ops.sigmoid(z)
    raise InputError(f"the contractive penalty needs one of {DIFFERENTIABLE} activations, got {name!r}")


def pulling_away_term(ops, codes, eps: float = 1e-8):
    """EBGAN's pulling-away term (Zhao et al. 2016, "Energy-based generative adversarial
    network", eq. 5) of codes S (N, d): 1/(N(N-1)) sum_{i != j} (S_i.S_j / (|S_i| |S_j|))^2,
    vectorised through the Gram matrix of the normalised codes."""
    n = codes.shape[0]
    if n < 2:  # no pairs (e.g. a last batch of one sample)
        return ops.sum(codes) * 0.0
    sq = ops.sum(ops.square(codes), axis=1)
    unit = codes / ((sq + eps) ** 0.5).reshape((-1, 1))
    gram = ops.dot(unit, ops.transpose(unit))
    diagonal = sq / (sq + eps)  # unit_i . unit_i
    return (ops.sum(ops.square(gram)) - ops.sum(ops.square(diagonal))) / (n * (n - 1))


def penalised_reconstruction(model, batch: Batch):
    """Reconstruction loss of an encoder/decoder model plus its ``penalty(batch, codes)``; the
    parts are logged as ``reconstruction`` and ``penalty``."""
    codes = model.encoder(batch.inputs)
    loss = model.loss_fn.compute(model.decoder(codes), batch.clean)
    penalty = model.penalty(batch, codes)
    if penalty is None:
        return loss, {}
    return loss + penalty, {"reconstruction": model.ops.detach(loss), "penalty": model.ops.detach(penalty)}


class ImageModel(Learner):
    """Image shape handling shared by the convolutional models."""

    def _check_image(self, image_shape, flat) -> None:
        self.image_shape = check_image_shape(image_shape)
        if not isinstance(flat, bool):
            raise InputError(f"flat must be True or False, got {flat!r}")
        self.flat = flat

    @property
    def input_shape(self) -> tuple:
        return (int(np.prod(self.image_shape)),) if self.flat else tuple(self.image_shape)


def check_conv_stack(channels, kernel_size, activation, batch_norm, dropout, pooling, residual,
                     image_shape) -> dict:
    """Validate the convolution blocks' hyper-parameters; return them normalised (and the
    spatial size after the blocks)."""
    if not isinstance(channels, (list, tuple)) or not channels:
        raise InputError(f"channels must list at least one convolution's width, got {channels!r}")
    channels = [check_positive(f"channels[{i}]", c, integer=True) for i, c in enumerate(channels)]
    kernel_size = check_positive("kernel_size", kernel_size, integer=True)
    if kernel_size % 2 == 0:
        raise InputError(f"kernel_size must be odd (convolutions keep the image size), got {kernel_size}")
    check_choice("activation", activation, ACTIVATIONS)
    for what, flag in (("batch_norm", batch_norm), ("residual", residual)):
        if not isinstance(flag, bool):
            raise InputError(f"{what} must be True or False, got {flag!r}")
    dropout = check_fraction("dropout", dropout)
    if pooling not in POOLING:
        raise InputError(f"pooling must be one of {POOLING}, got {pooling!r}")
    _, h, w = image_shape
    if pooling is not None:
        h, w = h >> len(channels), w >> len(channels)
        if h < 1 or w < 1:
            raise InputError(f"{len(channels)} 2x2 poolings do not fit an image of "
                             f"{image_shape[1]}x{image_shape[2]}; use fewer blocks or pooling=None")
    return dict(channels=channels, kernel_size=kernel_size, dropout=dropout, out_hw=(h, w))


class ConvolutionalNeuralNetworksBase(PenultimateFeaturesMixin, SupervisedLearner, ImageModel):
    """A stack of convolution blocks with a dense head (LeCun et al. 1998, "Gradient-based
    learning applied to document recognition"; residual connections: He et al. 2016).

    Block i: conv k x k (``channels[i]`` filters, same padding) -> (batch norm) -> activation,
    plus the block's input (1x1 conv when the width changes) if ``residual`` -> (dropout) ->
    (2x2 ``pooling``). Head: flatten -> dense ``hidden`` (activation, dropout) -> dense
    ``outputs`` -> ``output_activation``. Shapes: (N, C, H, W) (or flat) -> (N, outputs).
    Supervised; with the default cross-entropy the history has ``accuracy``.
    ``penultimate(x)`` (backend tensors) and ``extract_feature_points`` (NumPy) give the
    activations that feed the output layer: (N, hidden[-1]), or the flattened convolution
    features when ``hidden`` is empty.
    """

    #: the backend's convolutional encoder block, set by the backend module
    encoder_class: type = None

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), channels: Sequence[int] = (16, 32),
                 kernel_size: int = 3, activation: str = "relu", batch_norm: bool = True, dropout: float = 0.0,
                 pooling: Optional[str] = "max", residual: bool = False, hidden: Sequence[int] = (64,),
                 outputs: int = 10, output_activation: str = "identity", flat: bool = False,
                 loss="cross_entropy", optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_cnn(image_shape, channels, kernel_size, activation, batch_norm, dropout, pooling,
                        residual, hidden, outputs, output_activation, flat)
        self.encoder = self.encoder_class(**self.encoder_config())
        self._setup_learning(loss, optimizer, regularizers, device)

    def _check_cnn(self, image_shape, channels, kernel_size, activation, batch_norm, dropout, pooling,
                   residual, hidden, outputs, output_activation, flat) -> dict:
        self._check_image(image_shape, flat)
        stack = check_conv_stack(channels, kernel_size, activation, batch_norm, dropout, pooling,
                                 residual, self.image_shape)
        self.channels, self.kernel_size = list(channels), kernel_size
        self.activation, self.batch_norm, self.dropout = activation, batch_norm, dropout
        self.pooling, self.residual = pooling, residual
        if not isinstance(hidden, (list, tuple)):
            raise InputError(f"hidden must be a list of dense widths (may be empty), got {hidden!r}")
        self.hidden = [check_positive(f"hidden[{i}]", u, integer=True) for i, u in enumerate(hidden)]
        self.outputs = check_positive("outputs", outputs, integer=True)
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        return stack

    def encoder_config(self) -> dict:
        """The keyword arguments of the backend's ``ConvEncoder`` block."""
        return dict(image_shape=self.image_shape, channels=self.channels, kernel_size=self.kernel_size,
                    activation=self.activation, batch_norm=self.batch_norm, dropout=self.dropout,
                    pooling=self.pooling, residual=self.residual, units=self.hidden + [self.outputs],
                    output_activation=self.output_activation, flat=self.flat)

    @property
    def output_width(self) -> int:
        return self.outputs

    @classmethod
    def example(cls, n_features: int, code_size: int = 10, hidden: Sequence[int] = (), **kwargs):
        """Two blocks (8, 16 filters) on the image of ``n_features`` (flat input), ``code_size``
        outputs; max pooling where the image is large enough."""
        shape = kwargs.pop("image_shape", image_shape_for(n_features))
        pooling = "max" if min(shape[1:]) >= 4 else None
        kwargs.setdefault("flat", True)
        return cls(shape, channels=(8, 16), pooling=pooling, hidden=list(hidden), outputs=code_size, **kwargs)

    def extra_repr(self) -> str:
        return (f"image_shape={self.image_shape}, channels={self.channels}, kernel_size={self.kernel_size}, "
                f"pooling={self.pooling!r}, residual={self.residual}, hidden={self.hidden}, outputs={self.outputs}")


class ConvolutionalAutoEncoderBase(ImageModel):
    """Convolutional auto-encoder (Masci et al. 2011, "Stacked convolutional auto-encoders for
    hierarchical feature extraction"): convolution blocks -> dense code of ``code_size``;
    decoder: dense -> transposed convolutions mirroring the encoder -> ``output_activation``.
    Convolutions keep the image size (same padding, no pooling), so the transposed ones mirror
    them exactly. Shapes: (N, C, H, W) (or flat) -> same; codes (N, code_size).

    ``tied_weights=True``: the decoder has no weights of its own. Transposed convolution j of n
    uses the weight of encoder convolution n-1-j, the one it mirrors (a weight (out, in, k, k) read as a
    transposed convolution's (in, out, k, k) maps the encoder's output width back to its input
    width: the adjoint of that convolution), and the dense layer after the code uses the
    transpose of the code layer's weight; the decoder keeps its own biases (zeros at first).
    """

    #: the backend's convolutional encoder and transposed-convolution decoder blocks
    encoder_class: type = None
    decoder_class: type = None

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), channels: Sequence[int] = (16, 32),
                 kernel_size: int = 3, activation: str = "relu", code_size: int = 16,
                 code_activation: str = "identity", output_activation: str = "sigmoid",
                 batch_norm: bool = False, flat: bool = False, tied_weights: bool = False, loss="mse",
                 optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_cae(image_shape, channels, kernel_size, activation, code_size, code_activation,
                        output_activation, batch_norm, flat, tied_weights)
        self.encoder = self.encoder_class(**self.encoder_config())
        self.decoder = self.decoder_class(**self.decoder_config(),
                                          tied_to=self.encoder if tied_weights else None)
        self._setup_learning(loss, optimizer, regularizers, device)

    def _check_cae(self, image_shape, channels, kernel_size, activation, code_size, code_activation,
                   output_activation, batch_norm, flat, tied_weights) -> None:
        self._check_image(image_shape, flat)
        check_conv_stack(channels, kernel_size, activation, batch_norm, 0.0, None, False, self.image_shape)
        self.channels, self.kernel_size, self.activation = list(channels), kernel_size, activation
        self.code_size = check_positive("code_size", code_size, integer=True)
        self.code_activation = check_choice("code_activation", code_activation, ACTIVATIONS)
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        self.batch_norm = batch_norm
        if not isinstance(tied_weights, bool):
            raise InputError(f"tied_weights must be True or False, got {tied_weights!r}")
        self.tied_weights = tied_weights

    def encoder_config(self) -> dict:
        return dict(image_shape=self.image_shape, channels=self.channels, kernel_size=self.kernel_size,
                    activation=self.activation, batch_norm=self.batch_norm, dropout=0.0, pooling=None,
                    residual=False, units=[self.code_size], output_activation=self.code_activation,
                    flat=self.flat)

    def decoder_config(self) -> dict:
        return dict(image_shape=self.image_shape, channels=self.channels, kernel_size=self.kernel_size,
                    activation=self.activation, batch_norm=self.batch_norm, code_size=self.code_size,
                    output_activation=self.output_activation, flat=self.flat)

    def penalty(self, batch: Batch, codes):
        """A term added to the reconstruction loss (none here; see the subclasses)."""
        return None

    def batch_loss(self, batch: Batch):
        return penalised_reconstruction(self, batch)

    def extract_feature_points(self, observed_arr: np.ndarray) -> np.ndarray:
        """The codes of ``observed_arr`` (N, *input_shape) -> (N, code_size)."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.encoder, chunk), x)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (8,), **kwargs):
        """One convolution per entry of ``hidden`` (its filters) on the image of ``n_features``,
        taken flat, and a dense code of ``code_size``."""
        kwargs.setdefault("flat", True)
        return cls(kwargs.pop("image_shape", image_shape_for(n_features)), channels=list(hidden),
                   code_size=code_size, **kwargs)

    def extra_repr(self) -> str:
        return (f"image_shape={self.image_shape}, channels={self.channels}, kernel_size={self.kernel_size}, "
                f"code_size={self.code_size}, flat={self.flat}, tied_weights={self.tied_weights}")


class ContractiveMixin:
    """Contractive auto-encoder (Rifai et al. 2011, "Contractive auto-encoders: explicit
    invariance during feature extraction"): loss = reconstruction + ``contraction`` * mean over
    the batch of ||J(x)||_F^2, J = d code / d x (code_size x input features) of each sample.

    J is exact, by the chain rule: for one dense layer h = s(Wx + b) in closed form,
    ||J||^2 = sum_j s'(z_j)^2 sum_i W_ji^2; deeper (and convolutional) encoders push the D
    input directions through each layer's linear part times s'(z) (forward-mode). This needs
    only first-order gradients: MXNet 1.9.1 has no double backward (``_backward_sum is
    non-differentiable``). The tests check it against torch's autograd Jacobian.
    The reconstruction MSE is a mean over the D pixels while ||J||^2 sums D x code_size
    entries, hence the small default ``contraction``.
    Encoder activations must be differentiable in closed form; no batch norm (it couples the
    batch's samples) and no dropout in the encoder.
    """

    def __init__(self, *args, contraction: float = 0.001, **kwargs):
        super().__init__(*args, **kwargs)
        self.contraction = check_positive("contraction", contraction, allow_zero=True)
        enc = self.encoder
        activations = list(getattr(enc, "hidden_activations", [getattr(enc, "activation", "identity")]))
        for name in activations + [enc.output_activation]:
            if name not in DIFFERENTIABLE:
                raise InputError(f"{type(self).__name__} needs encoder activations from {DIFFERENTIABLE}, "
                                 f"got {name!r}")
        if enc.batch_norm:
            raise InputError(f"{type(self).__name__} cannot use batch_norm: the Jacobian of a sample's "
                             "code would depend on the rest of the batch")
        if any(getattr(enc, "dropouts", [getattr(enc, "dropout", 0.0)])):
            raise InputError(f"{type(self).__name__} needs an encoder without dropout")

    def jacobian_norms(self, x):
        """||d code / d x||_F^2 per sample, (N,), as a differentiable backend tensor."""
        return self.encoder.squared_jacobian_norms(x)

    def penalty(self, batch: Batch, codes):
        return self.contraction * self.ops.mean(self.jacobian_norms(batch.inputs))

    def batch_loss(self, batch: Batch):
        return penalised_reconstruction(self, batch)


class RepellingMixin:
    """Repelling auto-encoder: reconstruction + ``repelling`` * the EBGAN pulling-away term of
    the batch's codes (Zhao et al. 2016), which pushes the codes of a batch towards orthogonal
    directions."""

    def __init__(self, *args, repelling: float = 0.1, **kwargs):
        super().__init__(*args, **kwargs)
        self.repelling = check_positive("repelling", repelling, allow_zero=True)

    def penalty(self, batch: Batch, codes):
        return self.repelling * pulling_away_term(self.ops, codes)

    def batch_loss(self, batch: Batch):
        return penalised_reconstruction(self, batch)
