"""The backend-neutral half of the ladder networks (Rasmus, Berglund, Honkala, Valpola, Raiko
2015, "Semi-supervised learning with ladder networks", Algorithm 1): hyper-parameters, checks,
the layer shapes, and the cost (supervised + denoising) with its metrics.
``accelbrainbase.torch.ladder`` and ``accelbrainbase.mxnet.ladder`` add the layers, the encoder
and decoder passes (``ladder_terms``) and the inference ``forward`` / ``hybrid_forward``.

Notation (L layers, l = 0 is the input): clean pass z(l) = batchnorm(W(l) h(l-1)) with the batch
mean mu(l) and std sigma(l) kept; corrupted pass z~(l) = batchnorm(W(l) h~(l-1)) + noise,
h~(0) = z~(0) = x + noise; h(l) = relu(z(l) + beta(l)) in hidden layers, and the top layer
h(L) = softmax(gamma(L) * (z(L) + beta(L))). Decoder from the top: u(L) = batchnorm(h~(L)),
u(l) = batchnorm(V(l) z^(l+1)), z^(l) = g(z~(l), u(l)) (the vanilla combinator), and
z^_BN(l) = (z^(l) - mu(l)) / sigma(l) with the CLEAN pass's statistics (l >= 1; z^_BN(0) = z^(0)).
Cost: C = -log P~(y = t | x) on labelled samples (corrupted pass) + C_d,
C_d = sum_l lambda_l / (N m_l) sum_n ||z(l)_n - z^_BN(l)_n||^2 over ALL N samples.

Labels: -1 marks an unlabelled sample (``accelbrainbase.data.semisupervised``).

Canonical state names (both backends): ``encoder.layers.<i>.weight`` (W(i+1), no bias),
``encoder.norms.<i>.bias`` (beta), ``encoder.norms.<L-1>.weight`` (gamma, top only),
``encoder.norms.<i>.running_mean`` / ``.running_var``; ``decoder.layers.<l>.weight`` (V(l),
maps layer l+1 to layer l), ``decoder.combinators.<l>.a1`` ... ``.a10`` (l = 0..L).
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence

import numpy as np

from accelbrainbase.models.convolutional import ImageModel, image_shape_for
from accelbrainbase.core.errors import InputError
from accelbrainbase.core.interfaces import Batch
from accelbrainbase.core.learner import Learner
from accelbrainbase.models.networks import ACTIVATIONS
from accelbrainbase.core.optim import OptimizerSpec
from accelbrainbase.core.validation import check_choice, check_positive

#: the combinator's parameters a1..a10 start at 0 except a2 = a7 = 1 (the sigmoids' slopes), as in
#: the authors' code (github.com/CuriousAI/ladder, ladder.py, ``g`` with ``gtype == 'gauss'``)
COMBINATOR_INIT = (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
#: hidden activations allowed (the top layer is always the softmax classifier)
LADDER_ACTIVATIONS = tuple(a for a in ACTIVATIONS if a != "softmax")


def default_denoising_weights(n_layers: int) -> List[float]:
    """lambda_0..lambda_L of the paper's MNIST full ladder (1000, 10, 0.1, 0.1, ...), cut to
    ``n_layers + 1`` entries."""
    return ([1000.0, 10.0] + [0.1] * max(n_layers - 1, 0))[:n_layers + 1]


def check_denoising_weights(value, n_layers: int) -> List[float]:
    """``value`` (None for the default) as ``n_layers + 1`` non-negative floats, input first."""
    if value is None:
        return default_denoising_weights(n_layers)
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise InputError(f"denoising_weights must list one weight per layer (input first), got {value!r}")
    if len(value) != n_layers + 1:
        raise InputError(f"denoising_weights needs {n_layers + 1} entries (the input and {n_layers} layers), "
                         f"got {len(value)}")
    return [check_positive(f"denoising_weights[{i}]", v, allow_zero=True) for i, v in enumerate(value)]


class LayerSpec(NamedTuple):
    """One encoder layer W(l): ``kind`` "dense" or "conv", per-sample shapes of z(l-1) and z(l),
    and the transposed convolution's output padding (rows, columns; conv only)."""

    kind: str
    in_shape: tuple
    out_shape: tuple
    output_padding: tuple = (0, 0)


class LadderTerms(NamedTuple):
    """What a training pass gives: the clean and corrupted logits (N, classes) and the per-layer
    denoising costs mean((z(l) - z^_BN(l))^2), l = 0..L (backend scalars)."""

    clean_logits: object
    corrupted_logits: object
    costs: list


class LadderBase(Learner):
    """What both ladder networks share: the cost, its metrics, the label convention and checks.

    ``inference`` gives the clean encoder's logits gamma * (z(L) + beta) with the running batch
    statistics (softmax of them is P(y | x)). Training batches may hold unlabelled samples
    (label -1): they enter the denoising cost only. History: ``loss`` (total), ``supervised``,
    ``denoising`` and ``accuracy`` (clean pass, labelled samples of the batch); held out:
    ``test_loss`` (clean cross-entropy) and ``test_accuracy``.
    """

    requires_targets = True
    #: -1 labels (unlabelled samples) are allowed
    accepts_unlabelled = True
    #: running statistics: running = (1 - momentum) * running + momentum * batch (unbiased variance)
    momentum = 0.1
    #: added to the batch variance before the square root
    eps = 1e-5

    def _check_ladder(self, activation, noise_std, denoising_weights) -> None:
        self.activation = check_choice("activation", activation, LADDER_ACTIVATIONS)
        self.noise_std = check_positive("noise_std", noise_std, allow_zero=True)
        self.denoising_weights = check_denoising_weights(denoising_weights, self.n_layers)

    # -- structure -------------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.layer_specs)

    @property
    def layer_shapes(self) -> List[tuple]:
        """Per-sample shapes of z(0) (the input, as an image for conv layers) .. z(L)."""
        return [self.layer_specs[0].in_shape] + [s.out_shape for s in self.layer_specs]

    @property
    def output_width(self) -> int:
        return self.layer_specs[-1].out_shape[0]

    # -- the cost ------------------------------------------------------------------------------
    def _masked(self, per_sample, mask):
        """Mean of ``per_sample`` (N,) over the labelled samples (0 when there are none)."""
        n = self.ops.sum(mask)
        return self.ops.sum(per_sample * mask) / (n + (n < 0.5) * 1.0)

    def batch_loss(self, batch: Batch):
        terms = self.ladder_terms(batch.inputs)
        mask = self.label_mask(batch.targets)
        supervised = -self._masked(self.log_likelihoods(terms.corrupted_logits, batch.targets), mask)
        denoising = sum(w * c for w, c in zip(self.denoising_weights, terms.costs))
        accuracy = self._masked(self.hits(terms.clean_logits, batch.targets), mask)
        detach = self.ops.detach
        return supervised + denoising, {"supervised": detach(supervised), "denoising": detach(denoising),
                                        "accuracy": detach(accuracy)}

    def test_batch_loss(self, batch: Batch):
        logits = self(batch.inputs)
        mask = self.label_mask(batch.targets)
        loss = -self._masked(self.log_likelihoods(logits, batch.targets), mask)
        return loss, {"accuracy": self._masked(self.hits(logits, batch.targets), mask)}

    def denoising_cost(self, x: np.ndarray, noise: Optional[Sequence[np.ndarray]] = None) -> float:
        """C_d of the batch ``x`` (N, *input_shape) with the given standard-normal ``noise``
        (one array per z(0)..z(L), scaled by ``noise_std``; drawn when None). Running statistics
        are left unchanged."""
        x = self.check_samples("x", x)
        terms = self.ladder_terms(self._tensor(x), noise=noise, update_statistics=False)
        return float(sum(w * self.scalar(c) for w, c in zip(self.denoising_weights, terms.costs)))

    def check_data(self, data) -> None:
        super().check_data(data)
        if getattr(data, "noiseable_data", None) is not None:
            raise InputError(f"{type(self).__name__} adds its own Gaussian noise (noise_std); "
                             "the iterator must not add noise too")

    def _ladder_repr(self) -> str:
        return (f"activation={self.activation!r}, noise_std={self.noise_std}, "
                f"denoising_weights={self.denoising_weights}")


class LadderNetworksBase(LadderBase):
    """Ladder network with dense layers (Rasmus et al. 2015, Algorithm 1): ``units`` = [inputs,
    hidden..., classes]; ``noise_std`` is the std of the Gaussian noise added to the input and to
    every normalised pre-activation of the corrupted pass; ``denoising_weights`` = lambda_0..lambda_L
    (input first; default 1000, 10, 0.1, ... as for the paper's MNIST full ladder).
    Hidden layers: batch norm without scale, + beta, ``activation``; top: gamma * (z + beta),
    softmax. Decoder: V(l) dense (m(l+1) -> m(l)) and per-unit vanilla combinators.
    Shapes: (N, units[0]) -> logits (N, units[-1]); targets (N,) with -1 for unlabelled samples.
    """

    def __init__(self, units: Sequence[int] = (784, 1000, 500, 250, 250, 250, 10), activation: str = "relu",
                 noise_std: float = 0.3, denoising_weights: Optional[Sequence[float]] = None,
                 optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        if not isinstance(units, (list, tuple)) or len(units) < 2:
            raise InputError(f"units must list at least the input and class widths, got {units!r}")
        self.units = [check_positive(f"units[{i}]", u, integer=True) for i, u in enumerate(units)]
        if self.units[-1] < 2:
            raise InputError(f"the last entry of units is the number of classes and must be >= 2, got {units[-1]}")
        self.layer_specs = [LayerSpec("dense", (a,), (b,)) for a, b in zip(self.units[:-1], self.units[1:])]
        self._check_ladder(activation, noise_std, denoising_weights)
        self.build_ladder()
        self._setup_learning("cross_entropy", optimizer, regularizers, device)

    @property
    def input_shape(self) -> tuple:
        return (self.units[0],)

    @classmethod
    def example(cls, n_features: int, code_size: int = 10, hidden: Sequence[int] = (100, 50), **kwargs):
        """Dense ladder n_features -> ``hidden`` -> ``code_size`` classes, Adam at the paper's
        0.002."""
        kwargs.setdefault("optimizer", OptimizerSpec("adam", learning_rate=0.002))
        return cls([n_features, *hidden, code_size], **kwargs)

    def extra_repr(self) -> str:
        return f"units={self.units}, {self._ladder_repr()}"


class ConvolutionalLadderNetworksBase(LadderBase, ImageModel):
    """Ladder network with a convolutional encoder (Rasmus et al. 2015, section 4.2 uses conv
    encoders too): ``channels`` k x k convolutions with stride 2 (same padding, so each halves the
    image, rounding up), then dense ``hidden`` layers and the ``outputs`` classes.

    Every encoder layer is ONE linear map followed by batch norm (per channel for convolutions),
    noise, beta and the activation, so every layer, the input included, has its own z(l), lateral
    connection and denoising cost. The decoder mirrors each map with its exact transpose:
    V(l) is the transposed convolution (stride 2, output padding restoring odd/even sizes) for a
    conv layer and a dense map for a dense layer (reshaped to the feature maps under the first
    dense layer). Strided convolutions rather than pooling keep that mirror exact (max pooling
    has no linear transpose; the authors' code upsamples it by repetition). The combinators have
    one set of a1..a10 per channel for feature maps (weights shared over positions, as in the
    authors' conv ladders) and per unit for dense layers.
    Shapes: (N, C, H, W) (or flat (N, C*H*W) with ``flat=True``) -> logits (N, outputs).
    """

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), channels: Sequence[int] = (32, 64),
                 kernel_size: int = 3, hidden: Sequence[int] = (), outputs: int = 10, activation: str = "relu",
                 noise_std: float = 0.3, denoising_weights: Optional[Sequence[float]] = None, flat: bool = False,
                 optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_image(image_shape, flat)
        if not isinstance(channels, (list, tuple)) or not channels:
            raise InputError(f"channels must list at least one convolution's width, got {channels!r}")
        self.channels = [check_positive(f"channels[{i}]", c, integer=True) for i, c in enumerate(channels)]
        self.kernel_size = check_positive("kernel_size", kernel_size, integer=True)
        if self.kernel_size % 2 == 0:
            raise InputError(f"kernel_size must be odd (same padding), got {kernel_size}")
        if not isinstance(hidden, (list, tuple)):
            raise InputError(f"hidden must be a list of dense widths (may be empty), got {hidden!r}")
        self.hidden = [check_positive(f"hidden[{i}]", u, integer=True) for i, u in enumerate(hidden)]
        self.outputs = check_positive("outputs", outputs, integer=True)
        if self.outputs < 2:
            raise InputError(f"outputs is the number of classes and must be >= 2, got {outputs}")
        specs, shape = [], tuple(self.image_shape)
        for c in self.channels:
            _, h, w = shape
            out = (c, (h + 1) // 2, (w + 1) // 2)
            specs.append(LayerSpec("conv", shape, out, output_padding=(1 - h % 2, 1 - w % 2)))
            shape = out
        for u in self.hidden + [self.outputs]:
            specs.append(LayerSpec("dense", shape, (u,)))
            shape = (u,)
        self.layer_specs = specs
        self._check_ladder(activation, noise_std, denoising_weights)
        self.build_ladder()
        self._setup_learning("cross_entropy", optimizer, regularizers, device)

    @classmethod
    def example(cls, n_features: int, code_size: int = 10, hidden: Sequence[int] = (), **kwargs):
        """Two stride-2 convolutions (16, 32 filters) on the image of ``n_features`` (flat
        input), dense ``hidden``, ``code_size`` classes, Adam at the paper's 0.002."""
        kwargs.setdefault("flat", True)
        kwargs.setdefault("optimizer", OptimizerSpec("adam", learning_rate=0.002))
        return cls(kwargs.pop("image_shape", image_shape_for(n_features)), channels=(16, 32), hidden=list(hidden),
                   outputs=code_size, **kwargs)

    def extra_repr(self) -> str:
        return (f"image_shape={self.image_shape}, channels={self.channels}, kernel_size={self.kernel_size}, "
                f"hidden={self.hidden}, outputs={self.outputs}, flat={self.flat}, {self._ladder_repr()}")
