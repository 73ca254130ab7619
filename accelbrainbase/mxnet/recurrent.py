"""LSTM networks, the LSTM encoder-decoder and EncDec-AD (MXNet Gluon, ``gluon.rnn.LSTM``).

Hyper-parameters, checks and losses: models/recurrent.py; the detector: models/anomaly.py. The
fused LSTM's parameters (``_unfused.K.i2h_weight``, ...) are exported under torch's names
(``weight_ih_lK``, ...); both stack the gates as input, forget, cell, output.
"""
from __future__ import annotations

import math

import mxnet as mx
from mxnet import gluon, nd

from accelbrainbase.models.anomaly import EncDecADBase
from accelbrainbase.models.recurrent import EncoderDecoderBase, LSTMNetworksBase, canonical_lstm_name
from accelbrainbase.core.registry import register
from accelbrainbase.mxnet._glue import GluonModel, activate


def _lstm(input_size: int, hidden_size: int, num_layers: int, dropout: float) -> gluon.rnn.LSTM:
    """Batch-first fused LSTM initialised like torch's: U(-1/sqrt(H), 1/sqrt(H)) everywhere."""
    init = mx.init.Uniform(1.0 / math.sqrt(hidden_size))
    return gluon.rnn.LSTM(hidden_size, num_layers, layout="NTC", dropout=dropout, input_size=input_size,
                          i2h_weight_initializer=init, h2h_weight_initializer=init,
                          i2h_bias_initializer=init, h2h_bias_initializer=init)


def _zero_state(F, lstm: gluon.rnn.LSTM, x):
    """Zero (h, c) for ``x`` (N, T, F); symbolic graphs leave the batch size to inference."""
    batch = 0 if F is mx.sym else x.shape[0]
    kwargs = {} if F is mx.sym else {"ctx": x.context}
    return lstm.begin_state(batch, func=F.zeros, **kwargs)


class _Recurrent:
    """The layers the core constructors ask for, time reversal and LSTM state names."""

    make_lstm = staticmethod(_lstm)

    @staticmethod
    def make_dense(in_units: int, out_units: int) -> gluon.nn.Dense:
        return gluon.nn.Dense(out_units, in_units=in_units, flatten=False)

    @staticmethod
    def flip_time(x):
        return nd.flip(x, axis=1)

    def _canonical_parameters(self):
        return {canonical_lstm_name(k): v for k, v in super()._canonical_parameters().items()}


class LSTMNetworks(_Recurrent, LSTMNetworksBase, GluonModel):
    """Stacked LSTM, batch-first; see :class:`accelbrainbase.models.recurrent.LSTMNetworksBase`.

    Shapes: (N, T, input_size) -> (N, T, output_size or hidden_size).
    """


    def hybrid_forward(self, F, x):
        out = self.lstm(x)
        if self.output is None:
            return out
        return activate(F, self.output_activation, self.output(out))


@register("representation")
class EncoderDecoder(_Recurrent, EncoderDecoderBase, GluonModel):
    """LSTM encoder-decoder reconstructing in reverse order; see
    :class:`accelbrainbase.models.recurrent.EncoderDecoderBase`.

    ``hybrid_forward``: free-running decoder outputs ``[x'(T), ..., x'(1)]`` (N, T, F), a
    ``contrib.foreach`` loop so that it hybridizes for any T; ``teacher_forced``: the same with
    the true inputs fed to the decoder (one fused call).
    """


    def _start(self, F, x):
        out, states = self.encoder(x, _zero_state(F, self.encoder, x))
        return self.output(F.slice_axis(out, axis=1, begin=-1, end=None)), states  # x'(T), (h, c)

    def encode(self, x):
        """The code: the top layer's last hidden state, (N, hidden_size)."""
        out, _ = self.encoder(x, _zero_state(nd, self.encoder, x))  # one call signature per block
        return nd.reshape(nd.slice_axis(out, axis=1, begin=-1, end=None), (0, -1))

    def teacher_forced(self, x):
        first, states = self._start(nd, x)
        if x.shape[1] == 1:
            return first
        inputs = nd.flip(nd.slice_axis(x, axis=1, begin=1, end=None), axis=1)  # x(T), ..., x(2)
        out, _ = self.decoder(inputs, states)
        return nd.concat(first, self.output(out), dim=1)

    def hybrid_forward(self, F, x):
        first, states = self._start(F, x)

        def step(data, loop_states):
            previous, h, c = loop_states
            previous = F.broadcast_add(previous, F.expand_dims(data, axis=1) * 0)  # data only sets the length
            out, (h, c) = self.decoder(previous, [h, c])
            return F.reshape(previous, (0, -1)), [self.output(out), h, c]

        outputs, _ = F.contrib.foreach(step, F.transpose(x, axes=(1, 0, 2)), [first, states[0], states[1]])
        return F.transpose(outputs, axes=(1, 0, 2))


@register("anomaly-detection")
class EncDecAD(EncDecADBase):
    __doc__ = EncDecADBase.__doc__
    encoder_decoder_class = EncoderDecoder
