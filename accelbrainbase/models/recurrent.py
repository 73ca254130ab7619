"""The backend-neutral half of the sequence models: hyper-parameters, checks, losses per batch.

``accelbrainbase.torch.recurrent`` and ``accelbrainbase.mxnet.recurrent`` add only the
framework's fused LSTM layers and ``forward``. Sequences are batch-first: (batch, time, features).

Canonical state names are PyTorch's (``lstm.weight_ih_l0`` (4H, in), ``lstm.weight_hh_l0``
(4H, H), ``lstm.bias_ih_l0``, ``lstm.bias_hh_l0`` per layer). Both frameworks stack the gates
in the same order along the first axis: torch documents ``W_ii|W_if|W_ig|W_io`` and MXNet's
LSTM ``i, f, c (= g), o`` (``gluon.rnn.LSTMCell`` slices the gates in that order), so the
mapping is a renaming; :data:`GATE_ORDER` records it and the parity tests check it numerically.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import Batch, IteratableData
from accelbrainbase.core.learner import Learner
from accelbrainbase.models.networks import ACTIVATIONS
from accelbrainbase.core.validation import check_array, check_choice, check_fraction, check_positive

#: the order of the four gate blocks along the first axis of the fused weights, per framework
GATE_ORDER = {"torch": ("input", "forget", "cell", "output"), "mxnet": ("input", "forget", "cell", "output")}

_GLUON_LSTM = re.compile(r"_unfused\.(\d+)\.(i2h|h2h)_(weight|bias)$")


def canonical_lstm_name(gluon_name: str) -> str:
    """``encoder._unfused.0.i2h_weight`` (gluon.rnn.LSTM) -> ``encoder.weight_ih_l0`` (torch)."""
    match = _GLUON_LSTM.search(gluon_name)
    if match is None:
        return gluon_name
    layer, kind, part = match.groups()
    return gluon_name[:match.start()] + f"{part}_{kind[0]}h_l{layer}"


def reorder_gates(arr: np.ndarray, source: str, target: str) -> np.ndarray:
    """Permute the four gate blocks of a fused LSTM weight/bias from one framework's order to
    the other's (the identity for torch <-> mxnet, kept so a third backend only adds an order)."""
    src, dst = GATE_ORDER[source], GATE_ORDER[target]
    blocks = np.split(np.asarray(arr), 4, axis=0)
    return np.concatenate([blocks[src.index(gate)] for gate in dst], axis=0)


class SequenceModel(Learner):
    """Shape checks for batch-first sequences (N, time, features); ``seq_len=None`` accepts any
    length (and a time axis of ``None`` in ``input_shape`` is a wildcard)."""

    #: samples are sequences (N, time, features): ``compare representation`` feeds images as rows
    sequence_input = True

    @property
    def input_shape(self) -> tuple:
        """(seq_len, input_size); while ``learn`` checks data of any accepted length, that length."""
        return self.__dict__.get("_accepted_shape") or (self.seq_len, self.input_size)

    def _matches(self, got: tuple) -> bool:
        expected = (self.seq_len, self.input_size)
        return len(got) == 2 and all(e is None or e == g for e, g in zip(expected, got))

    def check_data(self, data: IteratableData) -> None:
        if not isinstance(data, IteratableData):
            return super().check_data(data)
        got = tuple(data.sample_shape)
        if not self._matches(got):
            raise ShapeError(self._shape_message(got))
        self.__dict__["_accepted_shape"] = got  # the loop's remaining checks see a match
        try:
            super().check_data(data)
        finally:
            self.__dict__.pop("_accepted_shape", None)

    def check_samples(self, what: str, arr) -> np.ndarray:
        arr = check_array(what, arr, ndim=3)
        if not self._matches(arr.shape[1:]):
            raise ShapeError(self._shape_message(arr.shape[1:]))
        return arr

    def _shape_message(self, got: tuple) -> str:
        name = type(self).__name__
        if len(got) != 2:
            return (f"{name} expects sequences (N, time, features) with {self.input_size} features, "
                    f"got samples of shape {got}")
        if got[1] != self.input_size:
            return f"{name} has the wrong number of input features: expected {self.input_size}, got {got[1]}"
        return f"{name} expects sequences of length {self.seq_len}, got length {got[0]}"

    def _check_sequence(self, input_size, hidden_size, num_layers, dropout, seq_len) -> None:
        self.input_size = check_positive("input_size", input_size, integer=True)
        self.hidden_size = check_positive("hidden_size", hidden_size, integer=True)
        self.num_layers = check_positive("num_layers", num_layers, integer=True)
        self.dropout = check_fraction("dropout", dropout)
        if dropout and self.num_layers == 1:
            raise InputError("dropout acts between stacked LSTM layers; with num_layers=1 it must be 0, "
                             f"got {dropout}")
        self.seq_len = None if seq_len is None else check_positive("seq_len", seq_len, integer=True)


class LSTMNetworksBase(SequenceModel):
    """Stacked LSTM (Hochreiter & Schmidhuber 1997) with an optional dense output layer per step.

    Shapes: (N, T, input_size) -> (N, T, output_size or hidden_size). Supervised: learns
    ``targets`` of that shape from ``inputs`` (sequence-to-sequence regression by default).
    """

    requires_targets = True

    def __init__(self, input_size: int, hidden_size: int = 32, num_layers: int = 1, dropout: float = 0.0,
                 output_size: Optional[int] = None, output_activation: str = "identity",
                 seq_len: Optional[int] = None, loss="mse", optimizer="adam", regularizers=(),
                 device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_lstm(input_size, hidden_size, num_layers, dropout, output_size, output_activation, seq_len)
        self.lstm = self.make_lstm(self.input_size, self.hidden_size, self.num_layers, self.dropout)
        self.output = None if self.output_size is None else self.make_dense(self.hidden_size, self.output_size)
        self._setup_learning(loss, optimizer, regularizers, device)

    def _check_lstm(self, input_size, hidden_size, num_layers, dropout, output_size,
                    output_activation, seq_len) -> None:
        self._check_sequence(input_size, hidden_size, num_layers, dropout, seq_len)
        self.output_size = None if output_size is None else check_positive("output_size", output_size, integer=True)
        self.output_activation = check_choice("output_activation", output_activation, ACTIVATIONS)
        if self.output_size is None and output_activation != "identity":
            raise InputError("output_activation needs an output layer: set output_size")

    @property
    def output_width(self) -> int:
        return self.output_size or self.hidden_size

    def batch_loss(self, batch: Batch):
        pred = self(batch.inputs)
        return self.loss_fn.compute(pred, batch.targets), self.loss_fn.metrics(pred, batch.targets)

    @classmethod
    def example(cls, n_features: int, code_size: int = 8, hidden: Sequence[int] = (), **kwargs):
        """A one-layer LSTM of ``code_size`` units with a dense output of ``n_features``."""
        return cls(n_features, code_size, num_layers=1 + len(tuple(hidden)), output_size=n_features, **kwargs)

    @classmethod
    def example_data(cls, rng: np.random.Generator, n_samples: int = 60, n_features: int = 12,
                     seq_len: int = 6) -> np.ndarray:
        return example_sequences(rng, n_samples, n_features, seq_len)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
                f"dropout={self.dropout}, output_size={self.output_size}")


class EncoderDecoderBase(SequenceModel):
    """LSTM encoder-decoder that reconstructs its input sequence in reverse order (Malhotra et
    al. 2016, "LSTM-based encoder-decoder for multi-sensor anomaly detection", arXiv:1607.00148;
    Sutskever et al. 2014).

    The encoder's final state (h, c of every layer) starts the decoder. The decoder's first
    output is ``x'(T) = W h_D(T) + b`` from that state; it then takes ``x(i)`` as input to reach
    ``h_D(i-1)`` and predict ``x'(i-1)``, down to ``x'(1)``. While learning the input is the
    true ``x(i)`` (teacher forcing); at inference it is its own previous output ``x'(i)``.
    ``inference`` returns the reconstruction in the input's order, (N, T, F);
    ``reconstruct_reversed`` gives the decoder's own order; ``extract_feature_points`` gives the
    code, the encoder's last hidden state (N, hidden_size).
    """

    def __init__(self, input_size: int, hidden_size: int = 32, num_layers: int = 1, dropout: float = 0.0,
                 seq_len: Optional[int] = None, teacher_forcing: float = 1.0, loss="mse",
                 optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_encoder_decoder(input_size, hidden_size, num_layers, dropout, seq_len, teacher_forcing)
        args = (self.input_size, self.hidden_size, self.num_layers, self.dropout)
        self.encoder = self.make_lstm(*args)
        self.decoder = self.make_lstm(*args)
        self.output = self.make_dense(self.hidden_size, self.input_size)
        self._setup_learning(loss, optimizer, regularizers, device)

    def _check_encoder_decoder(self, input_size, hidden_size, num_layers, dropout, seq_len,
                               teacher_forcing) -> None:
        self._check_sequence(input_size, hidden_size, num_layers, dropout, seq_len)
        self.teacher_forcing = check_fraction("teacher_forcing", teacher_forcing, allow_one=True)

    @property
    def output_width(self) -> int:
        return self.input_size

    def batch_loss(self, batch: Batch):
        """Reconstruction loss against the reversed clean input; a batch is decoded with the
        true inputs (teacher forcing) with probability ``teacher_forcing``, otherwise with the
        decoder's own outputs as at inference (scheduled sampling per batch, Bengio et al. 2015)."""
        p = self.teacher_forcing
        forced = p == 1 or (p > 0 and np.random.random() < p)
        pred = self.teacher_forced(batch.inputs) if forced else self(batch.inputs)
        return self.loss_fn.compute(pred, self.flip_time(batch.clean)), {}

    def test_batch_loss(self, batch: Batch):
        """Held-out loss of the free-running reconstruction (as at inference)."""
        return self.loss_fn.compute(self(batch.inputs), self.flip_time(batch.clean)), {}

    def reconstruct_reversed(self, observed_arr: np.ndarray) -> np.ndarray:
        """The decoder's outputs in its own order: ``[x'(T), ..., x'(1)]`` (N, T, F)."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(self.predict, x)

    def reconstruct_teacher_forced(self, observed_arr: np.ndarray) -> np.ndarray:
        """Decoder outputs ``[x'(T), ..., x'(1)]`` with the true ``x(i)`` as decoder inputs."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.teacher_forced, chunk), x)

    def inference(self, observed_arr: np.ndarray) -> np.ndarray:
        """The free-running reconstruction in the input's time order, (N, T, F)."""
        return self.reconstruct_reversed(observed_arr)[:, ::-1].copy()

    def extract_feature_points(self, observed_arr: np.ndarray) -> np.ndarray:
        """The fixed-length code: the encoder's last hidden state of the top layer, (N, hidden_size)."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.encode, chunk), x)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (), **kwargs):
        """The configuration of the contract tests and ``compare``: ``code_size`` LSTM units,
        one more layer per entry of ``hidden``."""
        return cls(n_features, code_size, num_layers=1 + len(tuple(hidden)), **kwargs)

    @classmethod
    def example_data(cls, rng: np.random.Generator, n_samples: int = 60, n_features: int = 12,
                     seq_len: int = 6) -> np.ndarray:
        return example_sequences(rng, n_samples, n_features, seq_len)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, dropout={self.dropout}")


def example_sequences(rng: np.random.Generator, n_samples: int, n_features: int, seq_len: int,
                      dtype=np.float32) -> np.ndarray:
    """Smooth random sequences (N, seq_len, n_features) in [0, 1]: phase-shifted sines."""
    t = np.arange(seq_len)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, (n_samples, 1, n_features))
    freq = rng.uniform(0.2, 0.8, (1, 1, n_features))
    return (0.5 + 0.4 * np.sin(freq * t + phase)).astype(dtype)
