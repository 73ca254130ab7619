"""LSTM networks, the LSTM encoder-decoder and EncDec-AD (PyTorch, ``torch.nn.LSTM``).

Hyper-parameters, checks and losses: models/recurrent.py; the detector: models/anomaly.py.
"""
from __future__ import annotations

import torch
from torch import nn

from accelbrainbase.models.anomaly import EncDecADBase
from accelbrainbase.models.recurrent import EncoderDecoderBase, LSTMNetworksBase
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import ACTIVATIONS, TorchModel


def _dense(in_features: int, out_features: int) -> nn.Linear:
    layer = nn.Linear(in_features, out_features)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class _Recurrent:
    """The layers the core constructors ask for, and time reversal."""

    @staticmethod
    def make_lstm(input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.LSTM:
        return nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout)

    make_dense = staticmethod(_dense)

    @staticmethod
    def flip_time(x):
        return torch.flip(x, dims=(1,))


class LSTMNetworks(_Recurrent, LSTMNetworksBase, TorchModel):
    """Stacked LSTM, batch-first; see :class:`accelbrainbase.models.recurrent.LSTMNetworksBase`.

    Shapes: (N, T, input_size) -> (N, T, output_size or hidden_size).
    """


    def forward(self, x):
        out, _ = self.lstm(x)
        if self.output is None:
            return out
        return ACTIVATIONS[self.output_activation](self.output(out))


@register("representation")
class EncoderDecoder(_Recurrent, EncoderDecoderBase, TorchModel):
    """LSTM encoder-decoder reconstructing in reverse order; see
    :class:`accelbrainbase.models.recurrent.EncoderDecoderBase`.

    ``forward``: free-running decoder outputs ``[x'(T), ..., x'(1)]`` (N, T, F);
    ``teacher_forced``: the same with the true inputs fed to the decoder.
    """


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
