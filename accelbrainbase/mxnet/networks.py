"""Dense networks and auto-encoders (MXNet Gluon). Hyper-parameters and checks: models/networks.py."""
from __future__ import annotations

import warnings
from typing import Iterable, Sequence

from mxnet import gluon, nd

from accelbrainbase.models.networks import (
    AutoEncoderBase, DenoisingAutoEncoderMixin, NeuralNetworksBase, StackedAutoEncoderMixin,
)
from accelbrainbase.core.registry import register
from accelbrainbase.mxnet._glue import GluonModel, activate


class TiedDense(gluon.HybridBlock):
    """A dense layer whose weight is the transpose of ``source``'s (only the bias is its own)."""

    def __init__(self, source: gluon.nn.Dense):
        super().__init__()
        in_units = source.weight.shape[1]
        self._units = in_units
        self.weight = source.weight  # shared with the encoder
        self.params.update({source.weight.name: source.weight})  # so hybridize() finds it
        self.bias = self.params.get("bias", shape=(in_units,), init="zeros")

    def hybrid_forward(self, F, x, weight, bias):
        return F.FullyConnected(x, F.transpose(weight), bias, num_hidden=self._units)


class NeuralNetworks(NeuralNetworksBase, GluonModel):
    """Multilayer perceptron; see :class:`accelbrainbase.models.networks.NeuralNetworksBase`.

    Shapes: (N, units[0]) -> (N, units[-1]).
    """

    def __init__(self, units: Sequence[int], activation: str | Sequence[str] = "relu",
                 output_activation: str = "identity", dropout: float | Sequence[float] = 0.0,
                 batch_norm: bool = False, loss="mse", optimizer="adam",
                 regularizers: Iterable = (), device: str = "cpu"):
        super().__init__()
        self._check_network(units, activation, output_activation, dropout, batch_norm)
        self.layers = gluon.nn.HybridSequential()
        for a, b in zip(self.units[:-1], self.units[1:]):
            self.layers.add(gluon.nn.Dense(b, in_units=a))
        self.norms = None
        if batch_norm:
            self.norms = gluon.nn.HybridSequential()
            for u in self.units[1:-1]:
                self.norms.add(gluon.nn.BatchNorm(in_channels=u))
        self._setup_learning(loss, optimizer, regularizers, device)

    def _trunk(self, F, x):
        """The hidden layers, written with ``F`` (mx.nd or mx.sym)."""
        for i in range(len(self.layers) - 1):
            x = self.layers[i](x)
            if self.norms is not None:
                x = self.norms[i](x)
            x = activate(F, self.hidden_activations[i], x)
            if self.dropouts[i]:
                x = F.Dropout(x, p=self.dropouts[i])
        return x

    def penultimate(self, x: nd.NDArray) -> nd.NDArray:
        """The activations that feed the output layer: (N, units[0]) -> (N, units[-2]) (after
        the last hidden layer's activation and dropout; the input itself without hidden layers).
        Imperative on NDArrays (also inside ``autograd.record``), the model may be hybridized."""
        return self._trunk(nd, x)

    def hybrid_forward(self, F, x):
        return activate(F, self.output_activation, self.layers[len(self.layers) - 1](self._trunk(F, x)))

    def tie_to(self, encoder: "NeuralNetworks") -> None:
        """Use the transposed weights of the mirrored ``encoder`` layers (tied auto-encoder)."""
        layers = gluon.nn.HybridSequential()
        for i in reversed(range(len(encoder.layers))):
            layers.add(TiedDense(encoder.layers[i]))
        with warnings.catch_warnings():  # the shared weights are initialised already
            warnings.simplefilter("ignore")
            layers.initialize(ctx=encoder.context)
        self.layers = layers
        self._clear_cached_op()


@register("representation")
class AutoEncoder(AutoEncoderBase, GluonModel):
    """Encoder + decoder (any models with ``input_shape``); see ``AutoEncoderBase``.

    Shapes: (N, *input_shape) -> (N, *input_shape); codes via ``extract_feature_points``.
    """

    network_class = NeuralNetworks

    def hybrid_forward(self, F, x):
        return self.decoder(self.encoder(x))


AutoEncoder.plain_class = AutoEncoder


@register("representation")
class DenoisingAutoEncoder(DenoisingAutoEncoderMixin, AutoEncoder):
    __doc__ = DenoisingAutoEncoderMixin.__doc__


@register("representation")
class StackedAutoEncoder(StackedAutoEncoderMixin, AutoEncoder):
    __doc__ = StackedAutoEncoderMixin.__doc__
