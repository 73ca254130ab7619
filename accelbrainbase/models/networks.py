"""The backend-neutral half of the dense models: hyper-parameters, checks, losses per batch,
greedy pre-training. ``accelbrainbase.torch.networks`` and ``accelbrainbase.mxnet.networks``
add only layers and ``forward``.
"""
from __future__ import annotations

from typing import Any, List, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import Batch, IteratableData, NoiseableData
from accelbrainbase.core.learner import Learner, SupervisedLearner
from accelbrainbase.models.pretraining import learn_layer, pretraining_arrays
from accelbrainbase.core.validation import check_choice, check_fraction, check_positive

ACTIVATIONS = ("identity", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax")


def per_layer(what: str, value: Any, n: int, check) -> List[Any]:
    """Broadcast a scalar hyper-parameter to ``n`` layers, or check a per-layer list's length."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise InputError(f"{what} has {len(values)} entries but the network has {n} hidden layers")
    return [check(f"{what}[{i}]", v) for i, v in enumerate(values)]


class PenultimateFeaturesMixin:
    """``extract_feature_points`` of a classifier: the activations that feed its output layer
    (the backend's ``penultimate(x)``), the features that the Fréchet distance and kernel MMD of
    generated samples are computed on (Heusel et al. 2017, "GANs trained by a two time-scale
    update rule converge to a local Nash equilibrium")."""

    def extract_feature_points(self, observed_arr: np.ndarray) -> np.ndarray:
        """Penultimate activations of ``observed_arr`` (N, *input_shape) -> (N, width), in
        evaluation mode, chunked."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.penultimate, chunk), x)


class NeuralNetworksBase(PenultimateFeaturesMixin, SupervisedLearner):
    """Multilayer perceptron: ``units = [inputs, hidden..., outputs]``.

    Each hidden layer is dense -> (batch norm) -> activation -> (dropout); the output layer is
    dense -> ``output_activation``. Supervised: learns ``targets`` from ``inputs``.
    ``penultimate(x)`` (backend tensors) and ``extract_feature_points`` (NumPy) give the
    activations that feed the output layer, (N, units[-2]).
    """

    def _check_network(self, units, activation, output_activation, dropout, batch_norm) -> None:
        if not isinstance(units, (list, tuple)) or len(units) < 2:
            raise InputError(f"units must list at least the input and output widths, got {units!r}")
        self.units = [check_positive(f"units[{i}]", u, integer=True) for i, u in enumerate(units)]
        n_hidden = len(self.units) - 2
        self.activation = activation if isinstance(activation, str) else list(activation)
        self.hidden_activations = per_layer(
            "activation", activation, n_hidden, lambda w, v: check_choice(w, v, ACTIVATIONS))
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        self.dropout = dropout if isinstance(dropout, (int, float)) else list(dropout)
        self.dropouts = per_layer("dropout", dropout, n_hidden, check_fraction)
        if not isinstance(batch_norm, bool):
            raise InputError(f"batch_norm must be True or False, got {batch_norm!r}")
        self.batch_norm = batch_norm

    @property
    def input_shape(self) -> tuple:
        return (self.units[0],)

    @property
    def output_width(self) -> int:
        return self.units[-1]

    def extra_repr(self) -> str:
        return (f"units={self.units}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, dropout={self.dropout}, "
                f"batch_norm={self.batch_norm}")


class AutoEncoderBase(Learner):
    """Encoder + decoder trained to reconstruct clean inputs (Hinton & Salakhutdinov 2006).

    When the iterator (or the model, see ``DenoisingAutoEncoder``) adds noise to the inputs,
    the target stays the clean sample: a denoising auto-encoder (Vincent et al. 2008).
    """

    #: the backend's NeuralNetworks class, set by the backend module
    network_class: type = None

    def __init__(self, encoder, decoder, tied_weights: bool = False, loss="mse", optimizer="adam",
                 regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_autoencoder(encoder, decoder, tied_weights)
        self.encoder, self.decoder, self.tied_weights = encoder, decoder, tied_weights
        if tied_weights:
            decoder.tie_to(encoder)
        self._setup_learning(loss, optimizer, regularizers, device)
        self._check_chain()

    def _check_autoencoder(self, encoder, decoder, tied_weights: bool) -> None:
        for role, part in (("encoder", encoder), ("decoder", decoder)):
            if not hasattr(part, "input_shape"):
                raise InputError(f"{role} must be an accelbrainbase model with an input_shape, got {part!r}")
        if not isinstance(tied_weights, bool):
            raise InputError(f"tied_weights must be True or False, got {tied_weights!r}")
        if tied_weights:
            both = all(isinstance(p, NeuralNetworksBase) for p in (encoder, decoder))
            if not both or decoder.units != encoder.units[::-1]:
                raise InputError("tied_weights needs NeuralNetworks encoder and decoder with mirrored "
                                 f"units, got {getattr(encoder, 'units', '?')} and "
                                 f"{getattr(decoder, 'units', '?')}")

    def _check_chain(self) -> None:
        """A dry run: the decoder must accept the code and give back the input's shape."""
        sample = np.zeros((2,) + tuple(self.encoder.input_shape), dtype=np.float32)
        code = self.apply_numpy(self.encoder, sample)
        if code.shape[1:] != tuple(self.decoder.input_shape):
            raise ShapeError(f"the encoder outputs codes of shape {code.shape[1:]} but the decoder "
                             f"expects {tuple(self.decoder.input_shape)}")
        out = self.apply_numpy(self.decoder, code)
        if out.shape[1:] != tuple(self.encoder.input_shape):
            raise ShapeError(f"the decoder outputs shape {out.shape[1:]} but the encoder's input "
                             f"shape is {tuple(self.encoder.input_shape)}")

    @property
    def input_shape(self) -> tuple:
        return tuple(self.encoder.input_shape)

    def batch_loss(self, batch: Batch):
        return self.loss_fn.compute(self(batch.inputs), batch.clean), {}

    def extract_feature_points(self, observed_arr: np.ndarray) -> np.ndarray:
        """The codes of ``observed_arr`` (N, *input_shape) -> (N, code width)."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.encoder, chunk), x)

    @classmethod
    def dense(cls, units: Sequence[int], activation: str = "relu", code_activation: str = "identity",
              output_activation: str = "sigmoid", dropout: float = 0.0, device: str = "cpu",
              **kwargs) -> "AutoEncoderBase":
        """An encoder ``units`` and a mirrored decoder, both NeuralNetworks."""
        encoder = cls.network_class(units, activation=activation, output_activation=code_activation,
                                    dropout=dropout, device=device)
        decoder = cls.network_class(list(units)[::-1], activation=activation,
                                    output_activation=output_activation, dropout=dropout, device=device)
        return cls(encoder, decoder, device=device, **kwargs)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (48,),
                **kwargs) -> "AutoEncoderBase":
        """The configuration used by the contract tests and ``compare representation``."""
        return cls.dense([n_features, *hidden, code_size], **kwargs)


class DenoisingAutoEncoderMixin:
    """An auto-encoder that corrupts its own inputs with ``noise`` while learning (Vincent et al.
    2008, "Extracting and composing robust features with denoising autoencoders"); default:
    masking noise that zeroes 25% of the inputs. Targets and ``inference`` stay clean.
    """

    def __init__(self, encoder, decoder, noise: NoiseableData | None = None, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        if noise is None:
            from accelbrainbase.data.noise import MaskingNoise

            noise = MaskingNoise(0.25)
        if not isinstance(noise, NoiseableData):
            raise InputError(f"noise must be a NoiseableData (e.g. MaskingNoise), got {noise!r}")
        self.noise = noise


class StackedAutoEncoderMixin:
    """Greedy layer-wise pre-training of one shallow auto-encoder per layer, then fine-tuning of
    the whole deep auto-encoder (Bengio et al. 2007, "Greedy layer-wise training of deep
    networks"; Hinton & Salakhutdinov 2006). ``units = [inputs, hidden..., code]``.
    """

    _config_exclude = ("encoder", "decoder")

    def __init__(self, units: Sequence[int], activation: str = "relu", code_activation: str = "identity",
                 output_activation: str = "sigmoid", pretrain_epochs: int = 10, device: str = "cpu",
                 **kwargs):
        if not isinstance(units, (list, tuple)) or len(units) < 3:
            raise InputError(f"a stacked auto-encoder needs at least two layers: units=[inputs, hidden, "
                             f"code], got {units!r}")
        encoder = self.network_class(units, activation=activation, output_activation=code_activation,
                                     device=device)
        decoder = self.network_class(list(units)[::-1], activation=activation,
                                     output_activation=output_activation, device=device)
        super().__init__(encoder, decoder, device=device, **kwargs)
        self.units = list(units)
        self.activation = activation
        self.code_activation = code_activation
        self.output_activation = output_activation
        self.pretrain_epochs = check_positive("pretrain_epochs", pretrain_epochs, integer=True)
        self.pretrain_histories_: List[Any] = []

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (48,), **kwargs):
        return cls([n_features, *hidden, code_size], **kwargs)

    def before_learning(self, iteratable_data: IteratableData) -> None:
        if not self.pretrain_histories_:
            self.pretrain(iteratable_data)

    def pretrain(self, iteratable_data: IteratableData) -> None:
        """Train layer ``i`` as a shallow auto-encoder on the codes of layers ``< i``."""
        train, test, batch_size = pretraining_arrays(iteratable_data)
        n_layers = len(self.units) - 1
        state = self.export_state()
        for i in range(n_layers):
            enc_act = self.activation if i < n_layers - 1 else self.code_activation
            dec_act = self.output_activation if i == 0 else self.activation
            width = self.units[i:i + 2]
            shallow = self.plain_class(
                self.network_class(width, output_activation=enc_act, device=self.device),
                self.network_class(width[::-1], output_activation=dec_act, device=self.device),
                tied_weights=self.tied_weights, loss=self.loss, optimizer=self.optimizer, device=self.device)
            self.pretrain_histories_.append(learn_layer(shallow, train, test, batch_size, self.pretrain_epochs))
            learned = shallow.export_state()
            j = n_layers - 1 - i
            for part in ("weight", "bias"):
                state[f"encoder.layers.{i}.{part}"] = learned[f"encoder.layers.0.{part}"]
                if f"decoder.layers.0.{part}" in learned:
                    state[f"decoder.layers.{j}.{part}"] = learned[f"decoder.layers.0.{part}"]
            train = shallow.extract_feature_points(train)
            test = None if test is None else shallow.extract_feature_points(test)
        self.import_state(state)

    def extra_repr(self) -> str:
        return f"units={self.units}, pretrain_epochs={self.pretrain_epochs}, tied_weights={self.tied_weights}"
