"""LSTM networks, the LSTM encoder-decoder and EncDec-AD (PyTorch, ``torch.nn.LSTM``).

Hyper-parameters, checks and losses: core/recurrent.py; the detector: core/anomaly.py.
"""
from __future__ import annotations

from typing import Iterable, Optional

import torch
from torch import nn

from accelbrainbase.core.anomaly import EncDecADBase
from accelbrainbase.core.recurrent import EncoderDecoderBase, LSTMNetworksBase
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import ACTIVATIONS, TorchModel


def _dense(in_features: int, out_features: int) -> nn.Linear:
    layer = nn.Linear(in_features, out_features)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class _Recurrent:
    @staticmethod
    def flip_time(x):
        return torch.flip(x, dims=(1,))


class LSTMNetworks(_Recurrent, LSTMNetworksBase, TorchModel):
    """Stacked LSTM, batch-first; see :class:`accelbrainbase.core.recurrent.LSTMNetworksBase`.

    Shapes: (N, T, input_size) -> (N, T, output_size or hidden_size).
    """

    def __init__(self, input_size: int, hidden_size: int = 32, num_layers: int = 1, dropout: float = 0.0,
                 output_size: Optional[int] = None, output_activation: str = "identity",
                 seq_len: Optional[int] = None, loss="mse", optimizer="adam",
                 regularizers: Iterable = (), device: str = "cpu"):
        super().__init__()
        self._check_lstm(input_size, hidden_size, num_layers, dropout, output_size, output_activation, seq_len)
        self.lstm = nn.LSTM(self.input_size, self.hidden_size, self.num_layers, batch_first=True,
                            dropout=self.dropout)
        self.output = None if self.output_size is None else _dense(self.hidden_size, self.output_size)
        self._setup_learning(loss, optimizer, regularizers, device)

    def forward(self, x):
        out, _ = self.lstm(x)
        if self.output is None:
            return out
        return ACTIVATIONS[self.output_activation](self.output(out))


@register("representation")
class EncoderDecoder(_Recurrent, EncoderDecoderBase, TorchModel):
    """LSTM encoder-decoder reconstructing in reverse order; see
    :class:`accelbrainbase.core.recurrent.EncoderDecoderBase`.

    ``forward``: free-running decoder outputs ``[x'(T), ..., x'(1)]`` (N, T, F);
    ``teacher_forced``: the same with the true inputs fed to the decoder.
    """

    def __init__(self, input_size: int, hidden_size: int = 32, num_layers: int = 1, dropout: float = 0.0,
                 seq_len: Optional[int] = None, teacher_forcing: float = 1.0, loss="mse",
                 optimizer="adam", regularizers: Iterable = (), device: str = "cpu"):
        super().__init__()
        self._check_encoder_decoder(input_size, hidden_size, num_layers, dropout, seq_len, teacher_forcing)
        args = (self.input_size, self.hidden_size, self.num_layers)
        self.encoder = nn.LSTM(*args, batch_first=True, dropout=self.dropout)
        self.decoder = nn.LSTM(*args, batch_first=True, dropout=self.dropout)
        self.output = _dense(self.hidden_size, self.input_size)
        self._setup_learning(loss, optimizer, regularizers, device)

    def encode(self, x):
        """The code: the top layer's last hidden state, (N, hidden_size)."""
        _, (h, _) = self.encoder(x)
        return h[-1]

    def _start(self, x):
        _, (h, c) = self.encoder(x)
        return self.output(h[-1]).unsqueeze(1), (h, c)  # x'(T) from h_D(T) = h_E(T)

    def teacher_forced(self, x):
        first, state = self._start(x)
        if x.shape[1] == 1:
            return first
        out, _ = self.decoder(torch.flip(x[:, 1:], dims=(1,)).contiguous(), state)  # inputs x(T), ..., x(2)
        return torch.cat([first, self.output(out)], dim=1)

    def forward(self, x):
        previous, state = self._start(x)
        outputs = [previous]
        for _ in range(x.shape[1] - 1):
            out, state = self.decoder(previous, state)
            previous = self.output(out)
            outputs.append(previous)
        return torch.cat(outputs, dim=1)


@register("anomaly-detection")
class EncDecAD(EncDecADBase):
    __doc__ = EncDecADBase.__doc__
    encoder_decoder_class = EncoderDecoder
