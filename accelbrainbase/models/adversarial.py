"""The generative adversarial family, written once for both backends: the parts (generator,
discriminator and energy-based discriminator wrappers around any network of this library),
the losses, and the controllers' step orders (GAN / conditional GAN, adversarial auto-encoder,
energy-based GAN and energy-based AAE). ``accelbrainbase.torch.adversarial`` and
``accelbrainbase.mxnet.adversarial`` add only each wrapper's ``forward`` / ``hybrid_forward``.

A controller is a :class:`Learner`: it learns through the one loop (an epoch is one pass over the
real data) and its ``learn_step`` updates each part with the part's own optimizer through the
backend primitive ``self.optimize(part, closure)``. Logged per epoch: ``discriminator_loss``,
``generator_loss``, ``d_real`` / ``d_fake`` (mean D(x), D(G(z)) as probabilities, or mean
energies for the energy-based ones) and, for auto-encoders, ``reconstruction``.

Canonical state names: ``generator.network.*``, ``discriminator.network.*`` (or
``discriminator.auto_encoder.*``), ``auto_encoder.*``.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import Batch, ComputableLoss, SamplableData
from accelbrainbase.core.controller import ControllerBase, PartBase, check_part
from accelbrainbase.core.losses import LossBase
from accelbrainbase.core.optim import OptimizerSpec
from accelbrainbase.core.validation import check_positive
from accelbrainbase.data.samplers import (
    ConditionSampler, MixtureOfGaussiansSampler, NormalNoiseSampler, check_labels, one_hot,
)
from accelbrainbase.models.convolutional import pulling_away_term


# -- losses --------------------------------------------------------------------------------------
class GeneratorLossBase(LossBase, ComputableLoss):
    """The generator's loss from the discriminator's logits l = logit D(G(z)) (Goodfellow et al.
    2014, "Generative adversarial nets", sec. 3): non-saturating ``mean(-log D(G(z)))`` =
    ``mean(softplus(-l))`` by default, whose gradient stays large while D rejects the samples;
    ``saturating=True`` gives the minimax form ``mean(log(1 - D(G(z))))`` = ``-mean(softplus(l))``."""

    def __init__(self, saturating: bool = False):
        if not isinstance(saturating, bool):
            raise InputError(f"saturating must be True or False, got {saturating!r}")
        self.saturating = saturating

    def get_config(self) -> dict:
        return {"saturating": self.saturating}

    def compute(self, pred_arr, real_arr=None):
        ops = self.ops
        if self.saturating:
            return -ops.mean(ops.softplus(pred_arr))
        return ops.mean(ops.softplus(-pred_arr))


class DiscriminatorLossBase(LossBase, ComputableLoss):
    """Binary cross-entropy of logits, real samples labelled ``1 - smoothing`` (one-sided label
    smoothing, Salimans et al. 2016) and generated ones 0, in the numerically stable form
    ``t softplus(-l) + (1 - t) softplus(l)``: ``compute(real_logits, fake_logits)``."""

    def __init__(self, smoothing: float = 0.0):
        from accelbrainbase.core.validation import check_fraction

        self.smoothing = check_fraction("smoothing", smoothing)

    def get_config(self) -> dict:
        return {"smoothing": self.smoothing}

    def compute(self, pred_arr, real_arr):
        ops, t = self.ops, 1.0 - self.smoothing
        real = ops.mean(ops.softplus(-pred_arr)) if t == 1.0 else ops.mean(
            t * ops.softplus(-pred_arr) + (1.0 - t) * ops.softplus(pred_arr))
        return real + ops.mean(ops.softplus(real_arr))


class EBDiscriminatorLossBase(LossBase, ComputableLoss):
    """EBGAN's discriminator loss (Zhao et al. 2017, "Energy-based generative adversarial
    network", eq. 1): ``mean(D(x)) + mean(max(0, margin - D(G(z))))`` from the energies of real and
    generated samples: ``compute(real_energy, fake_energy)``."""

    def __init__(self, margin: float = 1.0):
        self.margin = check_positive("margin", margin)

    def get_config(self) -> dict:
        return {"margin": self.margin}

    def compute(self, pred_arr, real_arr):
        ops = self.ops
        return ops.mean(pred_arr) + ops.mean(ops.relu(self.margin - real_arr))


class EBGeneratorLossBase(LossBase, ComputableLoss):
    """EBGAN's generator loss (Zhao et al. 2017, eq. 2): the mean energy of generated samples."""

    def compute(self, pred_arr, real_arr=None):
        return self.ops.mean(pred_arr)


class FeatureMatchingLossBase(LossBase, ComputableLoss):
    """Feature matching (Salimans et al. 2016, "Improved techniques for training GANs", sec.
    3.1): ``|| mean f(G(z)) - mean f(x) ||_2^2`` over the batch, f the discriminator's
    penultimate activations: ``compute(fake_features, real_features)``."""

    def compute(self, pred_arr, real_arr):
        ops = self.ops
        return ops.sum(ops.square(ops.mean(pred_arr, axis=0) - ops.mean(real_arr, axis=0)))


# -- parts -----------------------------------------------------------------------------------------
class GenerativeModelBase(PartBase, SamplableData):
    """A generator: ``network`` maps noise z (from ``noise_sampler``) and, when ``n_conditions``
    > 0, the one-hot condition appended to z, to a sample. ``draw()`` returns one batch of
    samples as NumPy (``generate(n, labels)`` any number). Shapes: (N, noise_dim [+ K]) ->
    (N, *sample_shape)."""

    def __init__(self, network, noise_sampler: Optional[SamplableData] = None, n_conditions: int = 0,
                 condition_sampler: Optional[SamplableData] = None, optimizer=None, device: Optional[str] = None):
        super().__init__()  # the framework's module / block
        check_part("network", network)
        if len(network.input_shape) != 1:
            raise InputError(f"a generator's network takes noise vectors, but its input shape is {network.input_shape}")
        self.network = network
        self.n_conditions = check_positive("n_conditions", n_conditions, integer=True, allow_zero=True)
        width = network.input_shape[0]
        if noise_sampler is None:
            noise_sampler = NormalNoiseSampler(width - self.n_conditions)
        if not isinstance(noise_sampler, SamplableData) or not isinstance(getattr(noise_sampler, "dim", None), int):
            raise InputError(f"noise_sampler must be a noise sampler with a dim (e.g. NormalNoiseSampler), "
                             f"got {noise_sampler!r}")
        if noise_sampler.dim + self.n_conditions != width:
            raise ShapeError(f"the generator's network takes {width} inputs, but the noise has {noise_sampler.dim} "
                             f"dimensions and the condition {self.n_conditions}")
        self.noise_sampler = noise_sampler
        if condition_sampler is None and self.n_conditions:
            condition_sampler = ConditionSampler(self.n_conditions)
        if condition_sampler is not None and not self.n_conditions:
            raise InputError("condition_sampler needs n_conditions > 0")
        self.condition_sampler = condition_sampler
        self._setup_part(optimizer, device)
        inputs, _ = self.draw_inputs(2)
        self.sample_shape = tuple(self.apply_numpy(self, inputs).shape[1:])

    @property
    def input_shape(self) -> tuple:
        return tuple(self.network.input_shape)

    @property
    def noise_dim(self) -> int:
        return self.noise_sampler.dim

    def draw_inputs(self, n: int, labels: Any = None) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Noise (and the one-hot condition) for ``n`` samples, and the labels asked for (drawn by
        ``condition_sampler`` unless given; ``None`` for an unconditional generator)."""
        z = self.noise_sampler.draw(n)
        if not self.n_conditions:
            if labels is not None:
                raise InputError("this generator is unconditional (n_conditions=0); labels must be None")
            return z, None
        labels = self.condition_sampler.draw(n) if labels is None else check_labels("labels", labels, self.n_conditions)
        if len(labels) != n:
            raise ShapeError(f"asked for {n} samples with {len(labels)} labels")
        return np.concatenate([z, one_hot(labels, self.n_conditions)], axis=1), labels

    def generate(self, n: int, labels: Any = None) -> np.ndarray:
        """``n`` samples (N, *sample_shape) as NumPy, generated in evaluation mode."""
        n = check_positive("n", n, integer=True)
        inputs, _ = self.draw_inputs(n, labels)
        return self._chunked(lambda chunk: self.apply_numpy(self, chunk), inputs)

    def draw(self) -> np.ndarray:
        return self.generate(self.noise_sampler.batch_size)

    def extra_repr(self) -> str:
        return f"noise_dim={self.noise_dim}, n_conditions={self.n_conditions}"


class DiscriminativeModelBase(PartBase):
    """A discriminator: ``network`` maps a sample (and, when ``n_conditions`` > 0, its one-hot
    label) to one logit. The label joins a vector sample as K more features and an image as K
    constant channel maps (Mirza & Osindero 2014, "Conditional generative adversarial nets"), so
    the network's input is (F + K,) or (C + K, H, W). Shapes: (N, *sample_shape) -> (N,)."""

    def __init__(self, network, n_conditions: int = 0, optimizer=None, device: Optional[str] = None):
        super().__init__()
        check_part("network", network)
        self.network = network
        self.n_conditions = k = check_positive("n_conditions", n_conditions, integer=True, allow_zero=True)
        self.image_conditions = hasattr(network, "image_shape")
        if self.image_conditions:
            c, h, w = network.image_shape
            if c <= k:
                raise ShapeError(f"a conditional image discriminator needs image channels + {k} condition channels; "
                                 f"its network has only {c} channels")
            self._image = (c - k, h, w)
            self.sample_shape = (int(np.prod(self._image)),) if network.flat else self._image
        else:
            (width,) = network.input_shape
            if width <= k:
                raise ShapeError(f"a conditional discriminator needs the sample's features + {k}; its network "
                                 f"takes only {width} inputs")
            self.sample_shape = (width - k,)
        self._setup_part(optimizer, device)
        probe = np.zeros((2,) + self.sample_shape, dtype=np.float32)
        out = self.apply_numpy(lambda x: self.network(self._joined(x, self.condition_tensor(np.zeros(2, int)))),
                               probe)
        if out.shape not in ((2,), (2, 1)):  # checked on the network: the forward flattens (N, 1)
            raise ShapeError(f"a discriminator's network must return one logit per sample, (N, 1) or (N,); "
                             f"it returns {out.shape[1:]} per sample")

    @property
    def input_shape(self) -> tuple:
        return tuple(self.sample_shape)

    def condition_array(self, labels: Any) -> Optional[np.ndarray]:
        """The condition in the network's layout: one-hot (N, K) or K maps (N, K, H, W) (flat
        when the network takes flat images); ``None`` when unconditional."""
        if not self.n_conditions:
            return None
        codes = one_hot(check_labels("labels", labels, self.n_conditions), self.n_conditions)
        if not self.image_conditions:
            return codes
        _, h, w = self._image
        maps = np.broadcast_to(codes[:, :, None, None], codes.shape + (h, w))
        return np.ascontiguousarray(maps.reshape(len(codes), -1) if self.network.flat else maps)

    def condition_tensor(self, labels: Any):
        array = self.condition_array(labels)
        return None if array is None else self._tensor(array)

    def _joined(self, x, condition):
        return x if condition is None else self.ops.concat([x, condition], axis=1)

    def logits(self, x, condition=None):
        """(N,) logits of backend samples ``x`` with their condition tensor (the backend's forward)."""
        return self(x) if condition is None else self(x, condition)

    def features(self, x, condition=None):
        """The network's penultimate activations (feature matching)."""
        return self.network.penultimate(self._joined(x, condition))

    def extra_repr(self) -> str:
        return f"sample_shape={self.sample_shape}, n_conditions={self.n_conditions}"


class EBDiscriminativeModelBase(PartBase):
    """An energy-based discriminator (Zhao et al. 2017): an auto-encoder whose per-sample mean
    squared reconstruction error is the energy, low on real data. Shapes: (N, *input_shape) -> (N,)."""

    _wrapped = "auto_encoder"

    def __init__(self, auto_encoder, optimizer=None, device: Optional[str] = None):
        super().__init__()
        check_part("auto_encoder", auto_encoder)
        if not (hasattr(auto_encoder, "encoder") and hasattr(auto_encoder, "decoder")):
            raise InputError(f"an energy-based discriminator needs an auto-encoder (with encoder and decoder), "
                             f"got {type(auto_encoder).__name__}")
        self.auto_encoder = auto_encoder
        self.n_conditions = 0
        self._setup_part(optimizer, device)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.auto_encoder.input_shape)

    @property
    def sample_shape(self) -> tuple:
        return self.input_shape

    def energy_and_codes(self, x):
        """(N,) energies and the (N, code) codes of backend samples ``x``."""
        codes = self.auto_encoder.encoder(x)
        error = self.ops.square(self.auto_encoder.decoder(codes) - x)
        return self.ops.mean(self.ops.reshape(error, (error.shape[0], -1)), axis=1), codes

    def energies(self, observed_arr: np.ndarray) -> np.ndarray:
        """Per-sample energies of NumPy samples."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self, chunk), x)


# -- controllers -----------------------------------------------------------------------------------
def example_optimizer(learning_rate: float = 1e-3) -> OptimizerSpec:
    """Adam with beta1 = 0.5 (Radford et al. 2016, "Unsupervised representation learning with
    deep convolutional GANs"), the examples' optimizer for every part."""
    return OptimizerSpec("adam", learning_rate, beta1=0.5)


class AdversarialControllerBase(ControllerBase):
    """Shared by the adversarial controllers: k discriminator steps per generator step, the
    discriminator's score and its summary for the history.

    The backend module sets the classes the examples build: ``network_class`` (NeuralNetworks),
    ``auto_encoder_class`` (AutoEncoder), ``generative_class``, ``discriminative_class`` and
    ``eb_discriminative_class``.
    """

    network_class = auto_encoder_class = generative_class = None
    discriminative_class = eb_discriminative_class = None
    monitor = "generator_loss"

    def _setup_adversarial(self, k_steps: int, device: Optional[str]) -> None:
        self.k_steps = check_positive("k_steps", k_steps, integer=True)
        self._setup_controller(device)
        self.step_count_ = 0

    def _generator_turn(self) -> bool:
        """Count a discriminator step; True on every ``k_steps``-th (then the generator learns)."""
        self.step_count_ += 1
        return self.step_count_ % self.k_steps == 0

    def check_data(self, data) -> None:
        super().check_data(data)
        if self.requires_targets:
            for what in ("y_train", "y_test"):
                labels = getattr(data, what, None)
                if labels is not None and np.size(labels):
                    check_labels(what, labels, self.n_conditions)

    @property
    def n_conditions(self) -> int:
        """The number of classes the discriminator is conditioned on (0: unconditional)."""
        return self.discriminator.n_conditions

    @property
    def conditional(self) -> bool:
        return self.n_conditions > 0

    @property
    def requires_targets(self) -> bool:
        return self.conditional

    # -- what the discriminator says (overridden by the energy-based controllers) -------------------
    def _judge(self, x, condition=None):
        """The discriminator's score of backend samples: logits (N,)."""
        return self.discriminator.logits(x, condition)

    def _summary(self, real, fake) -> Dict[str, Any]:
        """Mean D(x) and D(G(z)) as probabilities, for the history."""
        ops = self.ops
        return {"d_real": ops.detach(ops.mean(ops.sigmoid(real))), "d_fake": ops.detach(ops.mean(ops.sigmoid(fake)))}


class EnergyJudgeMixin:
    """For controllers whose discriminator is energy-based (Zhao et al. 2017): its score is the
    energy, the history shows mean energies, and the generator's objective may add
    ``pt_weight`` times the pulling-away term of the discriminator's codes of its samples."""

    def _judge(self, x, condition=None):
        return self.discriminator.energy_and_codes(x)[0]

    def _summary(self, real, fake) -> Dict[str, Any]:
        ops = self.ops
        return {"d_real": ops.detach(ops.mean(real)), "d_fake": ops.detach(ops.mean(fake))}

    def _with_pulling_away(self, loss, codes):
        if not self.pt_weight:
            return loss, {"generator_loss": loss}
        pt = pulling_away_term(self.ops, self.ops.reshape(codes, (codes.shape[0], -1)))
        return loss + self.pt_weight * pt, {"generator_loss": loss, "pulling_away": pt}


class GANControllerBase(AdversarialControllerBase):
    """Generative adversarial networks (Goodfellow et al. 2014, Algorithm 1): per real batch one
    discriminator update on real vs generated samples; after every ``k_steps`` discriminator
    updates one generator update. Conditional when both parts have ``n_conditions`` > 0 (Mirza &
    Osindero 2014): the discriminator sees each real sample with its label and each generated
    one with the label it was generated for; the data must then be labelled.

    ``feature_matching`` > 0 adds that multiple of the feature-matching loss (Salimans et al.
    2016) to the generator's objective. Generated samples of a batch are made once: the
    discriminator learns on them detached and the generator's update back-propagates through
    them (as PyTorch's DCGAN example). ``inference(noise)`` / ``generate(n, labels)`` give samples.
    """

    part_names = ("generator", "discriminator")
    #: the loss classes of the backend (set by the backend module)
    generator_loss_class: type = None
    discriminator_loss_class: type = None
    feature_matching_loss_class: type = None

    def __init__(self, generator, discriminator, k_steps: int = 1, generator_loss: Optional[ComputableLoss] = None,
                 discriminator_loss: Optional[ComputableLoss] = None, feature_matching: float = 0.0,
                 device: Optional[str] = None):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self._check_parts()
        self.generator_loss = generator_loss
        self.discriminator_loss = discriminator_loss
        self.generator_loss_fn = generator_loss or self.generator_loss_class()
        self.discriminator_loss_fn = discriminator_loss or self.discriminator_loss_class()
        for what, loss in (("generator_loss", self.generator_loss_fn), ("discriminator_loss", self.discriminator_loss_fn)):
            if not isinstance(loss, ComputableLoss):
                raise InputError(f"{what} must be a ComputableLoss, got {loss!r}")
        self.feature_matching = check_positive("feature_matching", feature_matching, allow_zero=True)
        self._setup_adversarial(k_steps, device)

    def _check_parts(self) -> None:
        g, d = self.generator, self.discriminator
        if not isinstance(g, GenerativeModelBase):
            raise InputError(f"generator must be a GenerativeModel, got {type(g).__name__}")
        if not isinstance(d, (DiscriminativeModelBase, EBDiscriminativeModelBase)):
            raise InputError(f"discriminator must be a DiscriminativeModel, got {type(d).__name__}")
        if tuple(g.sample_shape) != tuple(d.sample_shape):
            raise ShapeError(f"the generator makes samples of shape {tuple(g.sample_shape)} but the discriminator "
                             f"takes {tuple(d.sample_shape)}")
        if g.n_conditions != d.n_conditions:
            raise InputError(f"a conditional GAN conditions both parts on the same classes: the generator has "
                             f"n_conditions={g.n_conditions}, the discriminator {d.n_conditions}")

    @property
    def input_shape(self) -> tuple:
        return tuple(self.generator.sample_shape)

    # -- the step order --------------------------------------------------------------------------
    def _inputs(self, batch: Batch):
        n = len(batch.clean)
        real = self._tensor(batch.clean)
        real_condition = self.discriminator.condition_tensor(batch.targets) if self.conditional else None
        z, labels = self.generator.draw_inputs(n)
        fake_condition = self.discriminator.condition_tensor(labels) if self.conditional else None
        return real, real_condition, self._tensor(z), fake_condition

    def learn_step(self, batch: Batch) -> Dict[str, Any]:
        real, real_condition, z, fake_condition = self._inputs(batch)
        made = {}

        def discriminator_objective():
            made["fake"] = fake = self.generator(z)
            real_score = self._judge(real, real_condition)
            fake_score = self._judge(self.ops.detach(fake), fake_condition)
            loss = self.discriminator_loss_fn.compute(real_score, fake_score)
            return loss, {"discriminator_loss": loss, **self._summary(real_score, fake_score)}

        logs = self.optimize(self.discriminator, discriminator_objective)
        if self._generator_turn():
            logs.update(self.optimize(self.generator, lambda: self._generator_objective(
                made["fake"], fake_condition, real, real_condition)))
        return logs

    def _generator_objective(self, fake, fake_condition, real, real_condition):
        loss = self.generator_loss_fn.compute(self._judge(fake, fake_condition))
        if not self.feature_matching:
            return loss, {"generator_loss": loss}
        real_features = self.ops.detach(self.discriminator.features(real, real_condition))
        matching = self.feature_matching_loss_class().compute(self.discriminator.features(fake, fake_condition),
                                                              real_features)
        return loss + self.feature_matching * matching, {"generator_loss": loss, "feature_matching": matching}

    def test_logs(self, batch: Batch) -> Dict[str, Any]:
        real, real_condition, z, fake_condition = self._inputs(batch)
        real_score = self._judge(real, real_condition)
        fake_score = self._judge(self.generator(z), fake_condition)
        return {"discriminator_loss": self.discriminator_loss_fn.compute(real_score, fake_score),
                "generator_loss": self.generator_loss_fn.compute(fake_score), **self._summary(real_score, fake_score)}

    # -- inference: latent inputs -> samples ---------------------------------------------------------
    def draw_latent(self, n: int, labels: Any = None) -> np.ndarray:
        """Generator inputs for ``n`` samples (N, noise_dim [+ K one-hot of ``labels``])."""
        return self.generator.draw_inputs(check_positive("n", n, integer=True), labels)[0]

    def decode(self, latent: np.ndarray) -> np.ndarray:
        """The samples (N, *sample_shape) the generator makes from ``latent`` (see draw_latent)."""
        x = np.asarray(latent, dtype=np.float32)
        if x.ndim != 2 or x.shape[1:] != self.generator.input_shape:
            raise ShapeError(f"the generator takes inputs of shape (N, {self.generator.input_shape[0]}), "
                             f"got {x.shape}")
        return self._chunked(lambda chunk: self.generator.apply_numpy(self.generator, chunk), x)

    def generate(self, n: int, labels: Any = None) -> np.ndarray:
        """``n`` generated samples (N, *sample_shape) as NumPy (for labels ``labels`` when conditional)."""
        return self.decode(self.draw_latent(n, labels))

    def inference(self, observed_arr: np.ndarray) -> np.ndarray:
        """Samples generated from the given generator inputs (as :meth:`decode`)."""
        return self.decode(observed_arr)

    @classmethod
    def _example_generator(cls, n_features, code_size, hidden, n_classes, output_activation, learning_rate, device,
                           activation="leaky_relu"):
        units = [code_size + n_classes, *hidden, n_features]
        network = cls.network_class(units, activation=activation, output_activation=output_activation,
                                    optimizer=example_optimizer(learning_rate), device=device)
        return cls.generative_class(network, NormalNoiseSampler(code_size), n_conditions=n_classes)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden=(48,), n_classes: int = 0,
                output_activation: str = "sigmoid", activation: str = "leaky_relu", learning_rate: float = 1e-3,
                device: str = "cpu", **kwargs):
        """Dense generator [code_size (+ K), *hidden, F] (``output_activation``: sigmoid for data in
        [0, 1]) and discriminator [F (+ K), *reversed(hidden), 1], ``activation`` in the hidden
        layers, Adam(``learning_rate``, beta1=0.5) for both; N(0, I) noise of ``code_size``."""
        generator = cls._example_generator(n_features, code_size, hidden, n_classes, output_activation,
                                           learning_rate, device, activation)
        network = cls.network_class([n_features + n_classes, *list(hidden)[::-1], 1], activation=activation,
                                    optimizer=example_optimizer(learning_rate), device=device)
        return cls(generator, cls.discriminative_class(network, n_conditions=n_classes), **kwargs)

    def extra_repr(self) -> str:
        return f"k_steps={self.k_steps}, feature_matching={self.feature_matching}"


class ConditionalGANMixin:
    """A :class:`GANControllerBase` that must be conditional (Mirza & Osindero 2014): both parts
    get the label; the data must be labelled; ``generate(n, labels)`` makes the asked classes."""

    #: its example needs ``n_classes`` (the workbench and the contract tests pass it)
    conditional_example = True

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if not self.conditional:
            raise InputError("a conditional GAN needs parts with n_conditions > 0 (the number of classes)")

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden=(48,), n_classes: int = 10, **kwargs):
        if not n_classes:
            raise InputError("a conditional GAN's example needs n_classes > 0")
        return super().example(n_features, code_size=code_size, hidden=hidden, n_classes=n_classes, **kwargs)


class EBGANControllerBase(EnergyJudgeMixin, GANControllerBase):
    """Energy-based GAN (Zhao et al. 2017): the discriminator is an auto-encoder whose
    reconstruction error is the energy; it learns ``D(x) + [margin - D(G(z))]^+`` and the
    generator ``D(G(z)) + pt_weight * PT(codes of G(z))`` (the pulling-away term, eq. 5, against
    mode collapse). Logs mean energies as ``d_real`` and ``d_fake``."""

    eb_discriminator_loss_class: type = None
    eb_generator_loss_class: type = None

    def __init__(self, generator, discriminator, k_steps: int = 1, margin: float = 1.0, pt_weight: float = 0.1,
                 device: Optional[str] = None):
        super(GANControllerBase, self).__init__()  # the framework's module / block
        self.generator, self.discriminator = generator, discriminator
        self._check_parts()
        if not isinstance(discriminator, EBDiscriminativeModelBase):
            raise InputError(f"EBGAN needs an EBDiscriminativeModel (an auto-encoder), got {type(discriminator).__name__}")
        if generator.n_conditions:
            raise InputError("EBGAN is unconditional: the generator must have n_conditions=0")
        self.margin = check_positive("margin", margin)
        self.pt_weight = check_positive("pt_weight", pt_weight, allow_zero=True)
        self.discriminator_loss_fn = self.eb_discriminator_loss_class(margin)
        self.generator_loss_fn = self.eb_generator_loss_class()
        self._setup_adversarial(k_steps, device)

    def _generator_objective(self, fake, fake_condition, real, real_condition):
        energy, codes = self.discriminator.energy_and_codes(fake)
        return self._with_pulling_away(self.generator_loss_fn.compute(energy), codes)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden=(48,), output_activation: str = "sigmoid",
                learning_rate: float = 1e-3, margin: float = 0.1, device: str = "cpu", **kwargs):
        """The GAN example's generator; the discriminator a dense auto-encoder [F, *hidden, code_size]
        with a mirrored decoder (energies are per-value mean squared errors, hence the small margin)."""
        generator = cls._example_generator(n_features, code_size, hidden, 0, output_activation, learning_rate, device)
        auto_encoder = cls.auto_encoder_class.dense([n_features, *hidden, code_size], activation="leaky_relu",
                                                    output_activation=output_activation,
                                                    optimizer=example_optimizer(learning_rate), device=device)
        return cls(generator, cls.eb_discriminative_class(auto_encoder), margin=margin, **kwargs)

    def extra_repr(self) -> str:
        return f"k_steps={self.k_steps}, margin={self.margin}, pt_weight={self.pt_weight}"


class AAEControllerBase(AdversarialControllerBase):
    """Adversarial auto-encoder (Makhzani et al. 2016, "Adversarial autoencoders", sec. 2): per
    batch a reconstruction phase (the auto-encoder's optimizer on its reconstruction loss) and a
    regularisation phase: the discriminator learns to tell samples of the ``prior`` (positive) from
    the encoder's codes (negative), then the encoder, as the generator, learns to fool it (with the
    encoder's own optimizer; every ``k_steps``-th batch).

    With ``n_conditions`` > 0 on the discriminator the prior is label-conditioned (the paper's
    fig. 7/8): a labelled sample's code is matched to the prior component of its label, which the
    discriminator is told; the prior must then draw by label (``MixtureOfGaussiansSampler``), and
    ``generate(n, labels)`` decodes prior samples of the asked classes. Codes: ``extract_feature_points``.
    """

    part_names = ("auto_encoder", "discriminator")
    generator_loss_class: type = None
    discriminator_loss_class: type = None

    def __init__(self, auto_encoder, discriminator, prior: Optional[SamplableData] = None, k_steps: int = 1,
                 generator_loss: Optional[ComputableLoss] = None, discriminator_loss: Optional[ComputableLoss] = None,
                 device: Optional[str] = None):
        super().__init__()
        self.auto_encoder, self.discriminator = auto_encoder, discriminator
        self.code_shape = self._check_auto_encoder()
        if not isinstance(discriminator, (DiscriminativeModelBase, EBDiscriminativeModelBase)):
            raise InputError(f"discriminator must be a DiscriminativeModel, got {type(discriminator).__name__}")
        if tuple(discriminator.sample_shape) != self.code_shape:
            raise ShapeError(f"the discriminator of an AAE judges codes: it must take {self.code_shape}, "
                             f"it takes {tuple(discriminator.sample_shape)}")
        if prior is None:
            prior = (MixtureOfGaussiansSampler(self.code_shape[0], discriminator.n_conditions)
                     if discriminator.n_conditions else NormalNoiseSampler(self.code_shape[0]))
        if not isinstance(prior, SamplableData) or getattr(prior, "dim", None) != self.code_shape[0]:
            raise ShapeError(f"the prior must draw codes of dimension {self.code_shape[0]}, got {prior!r}")
        if discriminator.n_conditions and getattr(prior, "n_components", None) != discriminator.n_conditions:
            raise InputError(f"a label-conditioned prior needs one component per class: the discriminator has "
                             f"{discriminator.n_conditions} conditions, the prior {prior!r}")
        self.prior = prior
        self.generator_loss = generator_loss
        self.discriminator_loss = discriminator_loss
        self.generator_loss_fn = generator_loss or self.generator_loss_class()
        self.discriminator_loss_fn = discriminator_loss or self.discriminator_loss_class()
        self._setup_adversarial(k_steps, device)

    def _check_auto_encoder(self) -> tuple:
        ae = self.auto_encoder
        check_part("auto_encoder", ae)
        if not (hasattr(ae, "encoder") and hasattr(ae, "decoder") and hasattr(ae, "loss_fn")):
            raise InputError(f"auto_encoder must be an auto-encoder of this library (encoder, decoder), got "
                             f"{type(ae).__name__}")
        if getattr(ae, "noise", None) is not None:
            raise InputError("the auto-encoder of an AAE must not add noise of its own; give the iterator noise")
        probe = np.zeros((2,) + tuple(ae.input_shape), dtype=np.float32)
        code_shape = tuple(ae.apply_numpy(ae.encoder, probe).shape[1:])
        if len(code_shape) != 1:
            raise ShapeError(f"an AAE's codes must be vectors, the encoder gives {code_shape}")
        return code_shape

    def optimized_parts(self):
        return [self.auto_encoder, self.auto_encoder.encoder, self.discriminator]

    @property
    def input_shape(self) -> tuple:
        return tuple(self.auto_encoder.input_shape)

    # -- the step order --------------------------------------------------------------------------
    def _prior_and_conditions(self, batch: Batch):
        n = len(batch.clean)
        if not self.conditional:
            return self._tensor(self.prior.draw(n)), None
        condition = self.discriminator.condition_tensor(batch.targets)
        return self._tensor(self.prior.draw(n, labels=batch.targets)), condition

    def learn_step(self, batch: Batch) -> Dict[str, Any]:
        ae, ops = self.auto_encoder, self.ops
        inputs, clean = self._tensor(batch.inputs), self._tensor(batch.clean)

        def reconstruction_objective():
            loss = ae.loss_fn.compute(ae(inputs), clean)
            return loss, {"reconstruction": loss}

        logs = self.optimize(ae, reconstruction_objective)
        prior, condition = self._prior_and_conditions(batch)
        made = {}

        def discriminator_objective():
            made["codes"] = codes = ae.encoder(inputs)
            real, fake = self._judge(prior, condition), self._judge(ops.detach(codes), condition)
            loss = self.discriminator_loss_fn.compute(real, fake)
            return loss, {"discriminator_loss": loss, **self._summary(real, fake)}

        logs.update(self.optimize(self.discriminator, discriminator_objective))
        if self._generator_turn():
            logs.update(self.optimize(ae.encoder, lambda: self._encoder_objective(made["codes"], condition)))
        return logs

    def _encoder_objective(self, codes, condition):
        """The encoder's loss as the generator of codes."""
        loss = self.generator_loss_fn.compute(self._judge(codes, condition))
        return loss, {"generator_loss": loss}

    def test_logs(self, batch: Batch) -> Dict[str, Any]:
        ae = self.auto_encoder
        x = self._tensor(batch.clean)
        codes = ae.encoder(x)
        prior, condition = self._prior_and_conditions(batch)
        real, fake = self._judge(prior, condition), self._judge(codes, condition)
        return {"reconstruction": ae.loss_fn.compute(ae.decoder(codes), x),
                "discriminator_loss": self.discriminator_loss_fn.compute(real, fake),
                "generator_loss": self.generator_loss_fn.compute(fake), **self._summary(real, fake)}

    # -- inference ---------------------------------------------------------------------------------
    def inference(self, observed_arr: np.ndarray) -> np.ndarray:
        """Reconstructions of ``observed_arr`` (N, *input_shape)."""
        return self.auto_encoder.inference(observed_arr)

    def extract_feature_points(self, observed_arr: np.ndarray) -> np.ndarray:
        """The codes (N, code) of ``observed_arr``."""
        x = self.auto_encoder.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.auto_encoder.encoder, chunk), x)

    def draw_latent(self, n: int, labels: Any = None) -> np.ndarray:
        """``n`` prior samples (N, code); by label for a label-conditioned prior."""
        n = check_positive("n", n, integer=True)
        if labels is None:
            return self.prior.draw(n)
        if not self.conditional:
            raise InputError("this AAE's prior is not label-conditioned; labels must be None")
        labels = check_labels("labels", labels, self.n_conditions)
        if len(labels) != n:
            raise ShapeError(f"asked for {n} samples with {len(labels)} labels")
        return self.prior.draw(n, labels=labels)

    def decode(self, latent: np.ndarray) -> np.ndarray:
        """The decoder's samples (N, *input_shape) of codes ``latent`` (N, code)."""
        z = np.asarray(latent, dtype=np.float32)
        if z.ndim != 2 or z.shape[1:] != self.code_shape:
            raise ShapeError(f"the decoder takes codes of shape (N, {self.code_shape[0]}), got {z.shape}")
        return self._chunked(lambda chunk: self.apply_numpy(self.auto_encoder.decoder, chunk), z)

    def generate(self, n: int, labels: Any = None) -> np.ndarray:
        """Decoded prior samples (N, *input_shape); by label for a label-conditioned prior."""
        return self.decode(self.draw_latent(n, labels))

    @classmethod
    def _example_auto_encoder(cls, n_features, code_size, hidden, output_activation, learning_rate, device):
        return cls.auto_encoder_class.dense([n_features, *hidden, code_size], activation="leaky_relu",
                                            output_activation=output_activation,
                                            optimizer=example_optimizer(learning_rate), device=device)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden=(48,), n_classes: int = 0,
                output_activation: str = "sigmoid", learning_rate: float = 1e-3, device: str = "cpu", **kwargs):
        """A dense auto-encoder [F, *hidden, code_size] (mirrored decoder) and a dense discriminator
        over codes [code_size (+ K), *hidden, 1]; prior N(0, I), or with ``n_classes`` a
        label-conditioned mixture of ``n_classes`` Gaussians."""
        auto_encoder = cls._example_auto_encoder(n_features, code_size, hidden, output_activation, learning_rate,
                                                 device)
        network = cls.network_class([code_size + n_classes, *hidden, 1], activation="leaky_relu",
                                    optimizer=example_optimizer(learning_rate), device=device)
        return cls(auto_encoder, cls.discriminative_class(network, n_conditions=n_classes), **kwargs)

    def extra_repr(self) -> str:
        return f"k_steps={self.k_steps}, prior={self.prior!r}"


class EBAAEControllerBase(EnergyJudgeMixin, AAEControllerBase):
    """An adversarial auto-encoder whose discriminator is energy-based (an auto-encoder over codes,
    Zhao et al. 2017): it learns ``E(prior sample) + [margin - E(code)]^+`` and the encoder learns
    to lower ``E(code)`` (plus ``pt_weight`` times the pulling-away term of the batch's codes).
    Logs mean energies as ``d_real`` (prior) and ``d_fake`` (codes)."""

    eb_discriminator_loss_class: type = None
    eb_generator_loss_class: type = None

    def __init__(self, auto_encoder, discriminator, prior: Optional[SamplableData] = None, k_steps: int = 1,
                 margin: float = 1.0, pt_weight: float = 0.0, device: Optional[str] = None):
        if not isinstance(discriminator, EBDiscriminativeModelBase):
            raise InputError(f"EBAAE needs an EBDiscriminativeModel (an auto-encoder over codes), got "
                             f"{type(discriminator).__name__}")
        margin = check_positive("margin", margin)
        pt_weight = check_positive("pt_weight", pt_weight, allow_zero=True)
        super().__init__(auto_encoder, discriminator, prior=prior, k_steps=k_steps,
                         generator_loss=self.eb_generator_loss_class(),
                         discriminator_loss=self.eb_discriminator_loss_class(margin), device=device)
        self.margin, self.pt_weight = margin, pt_weight

    def _encoder_objective(self, codes, condition):
        return self._with_pulling_away(self.generator_loss_fn.compute(self._judge(codes)), codes)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden=(48,), output_activation: str = "sigmoid",
                learning_rate: float = 1e-3, margin: float = 1.0, device: str = "cpu", **kwargs):
        """The AAE example's auto-encoder; the discriminator a dense auto-encoder over codes
        [code_size, *hidden, max(code_size // 2, 1)]; prior N(0, I)."""
        auto_encoder = cls._example_auto_encoder(n_features, code_size, hidden, output_activation, learning_rate,
                                                 device)
        critic = cls.auto_encoder_class.dense([code_size, *hidden, max(code_size // 2, 1)], activation="leaky_relu",
                                              output_activation="identity",
                                              optimizer=example_optimizer(learning_rate), device=device)
        return cls(auto_encoder, cls.eb_discriminative_class(critic), margin=margin, **kwargs)

    def extra_repr(self) -> str:
        return f"k_steps={self.k_steps}, margin={self.margin}, pt_weight={self.pt_weight}"
