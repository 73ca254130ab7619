"""The backend-neutral half of the variational auto-encoder (Kingma & Welling 2014,
"Auto-encoding variational Bayes"): hyper-parameters, checks, the negative ELBO per batch, the
NumPy-facing ``elbo`` / ``generate`` / ``posterior``. ``accelbrainbase.torch.variational`` and
``accelbrainbase.mxnet.variational`` add only ``forward`` / ``hybrid_forward`` (decode the mean
code), ``elbo_terms`` (split the encoder's output, then :func:`negative_elbo_terms`, written once
with operations both frameworks share; MXNet runs it as one hybridized graph) and the
convolutional decoder model's layers.

The encoder is any model of this library whose output has 2 * latent values per sample: the
means of q(z|x) then the log-variances. The decoder is any model mapping a latent code (N, latent)
to the input shape: probabilities for ``reconstruction="bernoulli"``, means for ``"gaussian"``.

Canonical state names: ``encoder.<the encoder's names>`` and ``decoder.<the decoder's names>``
(e.g. ``encoder.layers.0.weight`` for a dense encoder, ``encoder.encoder.convs.0.weight`` for a
convolutional one, ``decoder.decoder.deconvs.0.weight`` for a :class:`ConvolutionalDecoderBase`).
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import Batch
from accelbrainbase.core.learner import Learner, SupervisedLearner
from accelbrainbase.core.validation import check_choice, check_positive
from accelbrainbase.models.convolutional import ImageModel, check_conv_stack, image_shape_for
from accelbrainbase.models.networks import ACTIVATIONS

RECONSTRUCTIONS = ("bernoulli", "gaussian")
#: probabilities are squeezed into [BERNOULLI_EPS, 1 - BERNOULLI_EPS] before the log
BERNOULLI_EPS = 1e-6


def gaussian_kl(ops, mean, log_variance):
    """KL(N(mean, diag(exp(log_variance))) || N(0, I)) per sample in closed form (Kingma &
    Welling 2014, appendix B): 0.5 * sum_k (exp(logvar_k) + mean_k^2 - 1 - logvar_k); (N, L) -> (N,)."""
    return 0.5 * ops.sum(ops.exp(log_variance) + mean * mean - 1.0 - log_variance, axis=1)


def bernoulli_nll(ops, probabilities, x):
    """-log p(x|z) of independent Bernoulli values per sample, (N, D) -> (N,): -sum_j x_j log p_j
    + (1 - x_j) log(1 - p_j), with p squeezed into [eps, 1 - eps] (eps = 1e-6) so a saturated
    sigmoid gives a finite loss; x may be grey levels in [0, 1] (the usual continuous relaxation)."""
    p = probabilities * (1.0 - 2.0 * BERNOULLI_EPS) + BERNOULLI_EPS
    return -ops.sum(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p), axis=1)


def gaussian_nll(ops, means, x, std: float):
    """-log N(x; means, std^2 I) per sample, (N, D) -> (N,): sum_j (x_j - m_j)^2 / (2 std^2)
    + log std + log(2 pi) / 2."""
    constant = math.log(std) + 0.5 * math.log(2.0 * math.pi)
    return ops.sum((x - means) * (x - means) * (0.5 / std ** 2) + constant, axis=1)


def negative_elbo_terms(ops, mean, log_variance, eps, decode, clean, reconstruction: str, std: float):
    """Per-sample -log p(clean | z) and KL(q(z|x) || N(0, I)), each (N,), for the posterior
    ``mean``, ``log_variance`` (N, latent) and the noise ``eps`` (N, latent): the codes are
    reparameterised, z = mean + exp(log_variance / 2) * eps; ``decode(z)`` and ``clean`` are
    flat (N, D). Written with ``ops.exp``, ``ops.log`` and ``ops.sum(x, axis=1)``, so the same
    code runs on torch tensors and inside an MXNet ``hybrid_forward``."""
    out = decode(mean + ops.exp(0.5 * log_variance) * eps)
    if reconstruction == "bernoulli":
        nll = bernoulli_nll(ops, out, clean)
    else:
        nll = gaussian_nll(ops, out, clean, std)
    return nll, gaussian_kl(ops, mean, log_variance)


class VariationalAutoEncoderBase(Learner):
    """Variational auto-encoder (Kingma & Welling 2014, "Auto-encoding variational Bayes").

    q(z|x) = N(mu(x), diag(exp(logvar(x)))) from the encoder's two halves; codes are
    reparameterised, z = mu + exp(logvar / 2) * eps with eps ~ N(0, I); p(z) = N(0, I);
    p(x|z) Bernoulli (decoder output: probabilities) or Gaussian with fixed ``observation_std``
    (decoder output: means). Loss = the negative ELBO per sample, reconstruction -log p(x|z)
    summed over the sample's values + ``kl_weight`` * KL(q(z|x) || p(z)) in closed form, averaged
    over the batch (``kl_weight`` != 1: the beta-VAE of Higgins et al. 2017). The history logs
    ``elbo`` (higher is better; always with weight 1), ``reconstruction`` and ``kl`` for the
    train and test splits, each a one-draw estimate per sample.

    ``inference`` decodes the mean code (deterministic); ``extract_feature_points`` gives the
    mean codes (N, latent); ``generate(n)`` decodes z ~ N(0, I); ``elbo(x)`` estimates the ELBO
    per held-out sample. Shapes: (N, *input_shape) -> (N, *input_shape).
    """

    #: the backend's NeuralNetworks, ConvolutionalNeuralNetworks and ConvolutionalDecoder
    network_class: type = None
    cnn_class: type = None
    conv_decoder_class: type = None
    #: generation from labels is not supported (see ``generate``)
    conditional = False

    def __init__(self, encoder, decoder, reconstruction: str = "bernoulli", kl_weight: float = 1.0,
                 observation_std: float = 1.0, optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self.reconstruction = check_choice("reconstruction", reconstruction, RECONSTRUCTIONS)
        self.kl_weight = check_positive("kl_weight", kl_weight, allow_zero=True)
        self.observation_std = check_positive("observation_std", observation_std)
        for role, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, Learner) or not hasattr(part, "input_shape"):
                raise InputError(f"{role} must be an accelbrainbase model with an input_shape, got {part!r}")
        if reconstruction == "bernoulli" and getattr(decoder, "output_activation", "sigmoid") != "sigmoid":
            raise InputError("reconstruction='bernoulli' needs a decoder whose outputs are probabilities "
                             f"(output_activation='sigmoid'), got output_activation="
                             f"{decoder.output_activation!r}; use reconstruction='gaussian' for means")
        self.encoder, self.decoder = encoder, decoder
        self.latent = self._check_latent(encoder, decoder)
        # the negative ELBO is the loss (set by ``reconstruction``); "mse" only fills the slot
        self._setup_learning("mse", optimizer, regularizers, device)
        self._check_chain()

    @staticmethod
    def _check_latent(encoder, decoder) -> int:
        """The latent width from the decoder's input; the dry run checks the encoder's."""
        shape = tuple(decoder.input_shape)
        if len(shape) != 1:
            raise ShapeError(f"the decoder must take flat latent codes (N, latent), but its input "
                             f"shape is {shape}")
        return shape[0]

    def _check_chain(self) -> None:
        """A dry run: the encoder gives 2 * latent values, the decoder gives back the input shape."""
        sample = np.zeros((2,) + self.input_shape, dtype=np.float32)
        h = self.apply_numpy(self.encoder, sample)
        if h.ndim != 2 or h.shape[1] % 2:
            raise ShapeError(f"the encoder outputs shape {h.shape[1:]} per sample; a variational "
                             "auto-encoder needs an even width 2 * latent (means, then log-variances)")
        if h.shape[1] != 2 * self.latent:
            raise ShapeError(f"the encoder outputs {h.shape[1]} values per sample, i.e. a latent of "
                             f"{h.shape[1] // 2}, but the decoder expects codes of width {self.latent} "
                             f"(the encoder must output 2 * {self.latent} = {2 * self.latent})")
        out = self.apply_numpy(self.decoder, h[:, :self.latent])
        if out.shape[1:] != self.input_shape:
            raise ShapeError(f"the decoder outputs shape {out.shape[1:]} but the encoder's input "
                             f"shape is {self.input_shape}")

    @property
    def input_shape(self) -> tuple:
        return tuple(self.encoder.input_shape)

    # -- the objective ------------------------------------------------------------------------
    # A backend supplies ``elbo_terms(inputs, clean, eps=None)``: the per-sample -log p(clean | z)
    # and KL(q(z | inputs) || N(0, I)), both (N,) tensors (:func:`negative_elbo_terms`), with
    # ``eps`` (N, latent) fixing the reparameterisation noise (the framework draws it when None).
    def batch_loss(self, batch: Batch, eps=None):
        """Negative ELBO (KL weighted by ``kl_weight``) averaged over the batch; logs ``elbo``,
        ``reconstruction`` and ``kl`` (batch means)."""
        reconstruction, kl = self.elbo_terms(batch.inputs, batch.clean, eps)
        reconstruction, kl = self.ops.mean(reconstruction), self.ops.mean(kl)
        loss = reconstruction + self.kl_weight * kl
        r, k = self.ops.detach(reconstruction), self.ops.detach(kl)
        return loss, {"elbo": -(r + k), "reconstruction": r, "kl": k}

    # -- NumPy in, NumPy out ------------------------------------------------------------------
    def posterior(self, observed_arr: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The means and log-variances of q(z|x), each (N, latent)."""
        x = self.check_samples("observed_arr", observed_arr)
        h = self._chunked(lambda chunk: self.apply_numpy(self.encoder, chunk), x)
        return h[:, :self.latent], h[:, self.latent:]

    def extract_feature_points(self, observed_arr: np.ndarray) -> np.ndarray:
        """The mean codes of ``observed_arr`` (N, *input_shape) -> (N, latent)."""
        return self.posterior(observed_arr)[0]

    def elbo(self, observed_arr: np.ndarray, samples: int = 1, seed: Optional[int] = None) -> np.ndarray:
        """The ELBO of each sample, (N,), in nats: E_q[log p(x|z)] - KL(q(z|x) || N(0, I)),
        the expectation estimated by the mean over ``samples`` reparameterised draws (eps from
        NumPy's ``default_rng(seed)``; ``seed=None`` draws the seed from NumPy's global generator)
        and the KL in closed form. A lower bound on log p(x) (for ``"gaussian"`` a density)."""
        x = self.check_samples("observed_arr", observed_arr)
        samples = check_positive("samples", samples, integer=True)
        if seed is None:
            seed = int(np.random.randint(2 ** 31))
        rng = np.random.default_rng(seed)
        size, total = self.inference_batch_size, np.zeros(len(x), dtype=np.float64)
        for _ in range(samples):
            eps = rng.standard_normal((len(x), self.latent)).astype(np.float32)
            for i in range(0, len(x), size):
                part = eps[i:i + size]

                def negative(chunk, part=part):
                    reconstruction, kl = self.elbo_terms(chunk, chunk, self._tensor(part))
                    return reconstruction + kl

                total[i:i + size] -= self.apply_numpy(negative, x[i:i + size])
        return total / samples

    def generate(self, n: int, labels: Optional[np.ndarray] = None, *, seed: Optional[int] = None) -> np.ndarray:
        """``n`` samples (n, *input_shape): the decoder's output (probabilities or means) for
        z ~ N(0, I) drawn by NumPy (``seed`` as in :meth:`elbo`). Unconditional: ``labels``
        must be ``None``."""
        return self.decode(self.draw_latent(n, labels, seed=seed))

    def draw_latent(self, n: int, labels: Optional[np.ndarray] = None, *, seed: Optional[int] = None) -> np.ndarray:
        """``n`` prior draws z ~ N(0, I), (n, latent) (``seed`` as in :meth:`elbo`)."""
        if labels is not None:
            raise InputError(f"{type(self).__name__} is unconditional (conditional = False): it "
                             "generates without labels; pass labels=None")
        n = check_positive("n", n, integer=True)
        if seed is None:
            seed = int(np.random.randint(2 ** 31))
        return np.random.default_rng(seed).standard_normal((n, self.latent)).astype(np.float32)

    def decode(self, latent: np.ndarray) -> np.ndarray:
        """The decoder's output (N, *input_shape) for codes ``latent`` (N, latent)."""
        z = np.asarray(latent, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent:
            raise ShapeError(f"the decoder takes codes of shape (N, {self.latent}), got {z.shape}")
        return self._chunked(lambda chunk: self.apply_numpy(self.decoder, chunk), z)

    # -- constructors -----------------------------------------------------------------------------
    @classmethod
    def _output_activation(cls, output_activation: Optional[str], kwargs: dict) -> str:
        if output_activation is not None:
            return output_activation
        return "sigmoid" if kwargs.get("reconstruction", "bernoulli") == "bernoulli" else "identity"

    @classmethod
    def dense(cls, units: Sequence[int], activation: str = "relu", output_activation: Optional[str] = None,
              dropout: float = 0.0, device: str = "cpu", **kwargs) -> "VariationalAutoEncoderBase":
        """``units = [inputs, hidden..., latent]``: a NeuralNetworks encoder [inputs, hidden...,
        2 * latent] and a mirrored decoder [latent, ..., inputs] with ``output_activation``
        (default: sigmoid for Bernoulli, identity for Gaussian reconstruction)."""
        if not isinstance(units, (list, tuple)) or len(units) < 2:
            raise InputError(f"units must list at least the input width and the latent width, got {units!r}")
        latent = check_positive("units[-1] (the latent width)", units[-1], integer=True)
        encoder = cls.network_class([*units[:-1], 2 * latent], activation=activation,
                                    output_activation="identity", dropout=dropout, device=device)
        decoder = cls.network_class(list(units)[::-1], activation=activation,
                                    output_activation=cls._output_activation(output_activation, kwargs),
                                    dropout=dropout, device=device)
        return cls(encoder, decoder, device=device, **kwargs)

    @classmethod
    def convolutional(cls, image_shape: Sequence[int] = (1, 28, 28), channels: Sequence[int] = (16, 32),
                      kernel_size: int = 3, activation: str = "relu", code_size: int = 16,
                      output_activation: Optional[str] = None, batch_norm: bool = False,
                      pooling: Optional[str] = None, flat: bool = False, device: str = "cpu",
                      **kwargs) -> "VariationalAutoEncoderBase":
        """A ConvolutionalNeuralNetworks encoder (``channels`` blocks, ``2 * code_size`` outputs)
        and a :class:`ConvolutionalDecoderBase` mirroring its convolutions (Masci et al. 2011's
        decoder, as in the convolutional auto-encoder)."""
        code_size = check_positive("code_size", code_size, integer=True)
        encoder = cls.cnn_class(image_shape, channels=channels, kernel_size=kernel_size, activation=activation,
                                batch_norm=batch_norm, pooling=pooling, hidden=[], outputs=2 * code_size,
                                output_activation="identity", flat=flat, loss="mse", device=device)
        decoder = cls.conv_decoder_class(image_shape, channels=channels, kernel_size=kernel_size,
                                         activation=activation, code_size=code_size,
                                         output_activation=cls._output_activation(output_activation, kwargs),
                                         batch_norm=batch_norm, flat=flat, device=device)
        return cls(encoder, decoder, device=device, **kwargs)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (48,),
                **kwargs) -> "VariationalAutoEncoderBase":
        """The configuration used by the contract tests and ``compare``: dense, ``hidden`` widths."""
        return cls.dense([n_features, *hidden, code_size], **kwargs)

    def extra_repr(self) -> str:
        return (f"latent={self.latent}, reconstruction={self.reconstruction!r}, kl_weight={self.kl_weight}, "
                f"observation_std={self.observation_std}")


class ConvolutionalVariationalAutoEncoderMixin:
    """The convolutional example of :class:`VariationalAutoEncoderBase` (same constructor)."""

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (8,), **kwargs):
        """One convolution per entry of ``hidden`` (its filters) on the image of ``n_features``,
        taken flat, as the convolutional auto-encoder's example; latent ``code_size``."""
        kwargs.setdefault("flat", True)
        return cls.convolutional(kwargs.pop("image_shape", image_shape_for(n_features)), channels=list(hidden),
                                 code_size=code_size, **kwargs)


class ConvolutionalDecoderBase(SupervisedLearner, ImageModel):
    """A latent code (N, code_size) -> an image (N, C, H, W) (flat with ``flat=True``): dense to
    channels[-1] x H x W, then same-size transposed convolutions mirroring an encoder with
    ``channels`` (channels[-1] -> ... -> channels[0] -> C), the last with ``output_activation``:
    the convolutional auto-encoder's decoder block (Masci et al. 2011) as a model of its own.
    Learned alone it regresses images from codes (``loss``, default MSE)."""

    #: the backend's decoder block (``ConvDecoder``), set by the backend module
    decoder_class: type = None

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), channels: Sequence[int] = (16, 32),
                 kernel_size: int = 3, activation: str = "relu", code_size: int = 16,
                 output_activation: str = "sigmoid", batch_norm: bool = False, flat: bool = False,
                 loss="mse", optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_image(image_shape, flat)
        check_conv_stack(channels, kernel_size, activation, batch_norm, 0.0, None, False, self.image_shape)
        self.channels, self.kernel_size, self.activation = list(channels), kernel_size, activation
        self.code_size = check_positive("code_size", code_size, integer=True)
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        self.batch_norm = batch_norm
        self.decoder = self.decoder_class(image_shape=self.image_shape, channels=self.channels,
                                          kernel_size=kernel_size, activation=activation,
                                          batch_norm=batch_norm, code_size=self.code_size,
                                          output_activation=output_activation, flat=flat)
        self._setup_learning(loss, optimizer, regularizers, device)

    @property
    def input_shape(self) -> tuple:
        return (self.code_size,)

    @property
    def output_shape(self) -> tuple:
        return (int(np.prod(self.image_shape)),) if self.flat else tuple(self.image_shape)

    def extra_repr(self) -> str:
        return (f"code_size={self.code_size}, image_shape={self.image_shape}, channels={self.channels}, "
                f"kernel_size={self.kernel_size}, output_activation={self.output_activation!r}, flat={self.flat}")
