"""Dense networks and auto-encoders (PyTorch). Hyper-parameters and checks: models/networks.py."""
from __future__ import annotations

from typing import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from accelbrainbase.models.networks import (
    AutoEncoderBase, DenoisingAutoEncoderMixin, NeuralNetworksBase, StackedAutoEncoderMixin,
)
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import ACTIVATIONS, TorchModel


class TiedLinear(nn.Module):
    """A dense layer whose weight is the transpose of ``source``'s (only the bias is its own)."""

    def __init__(self, source: nn.Linear):
        super().__init__()
        self.__dict__["source"] = source  # not a submodule: the weight belongs to the encoder
        self.bias = nn.Parameter(torch.zeros(source.in_features))

    def forward(self, x):
        return F.linear(x, self.source.weight.t(), self.bias)


class NeuralNetworks(NeuralNetworksBase, TorchModel):
    """Multilayer perceptron; see :class:`accelbrainbase.models.networks.NeuralNetworksBase`.

    Shapes: (N, units[0]) -> (N, units[-1]).
    """

    def __init__(self, units: Sequence[int], activation: str | Sequence[str] = "relu",
                 output_activation: str = "identity", dropout: float | Sequence[float] = 0.0,
                 batch_norm: bool = False, loss="mse", optimizer="adam",
                 regularizers: Iterable = (), device: str = "cpu"):
        super().__init__()
        self._check_network(units, activation, output_activation, dropout, batch_norm)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(self.units[:-1], self.units[1:]))
        for layer in self.layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.norms = nn.ModuleList(nn.BatchNorm1d(u) for u in self.units[1:-1]) if batch_norm else None
        self._setup_learning(loss, optimizer, regularizers, device)

    def penultimate(self, x):
        """The activations that feed the output layer: (N, units[0]) -> (N, units[-2]) (after
        the last hidden layer's activation and dropout; the input itself without hidden layers)."""
        for i, layer in enumerate(self.layers[:-1]):
            x = layer(x)
            if self.norms is not None:
                x = self.norms[i](x)
            x = ACTIVATIONS[self.hidden_activations[i]](x)
            if self.dropouts[i]:
                x = F.dropout(x, self.dropouts[i], self.training)
        return x

    def forward(self, x):
        return ACTIVATIONS[self.output_activation](self.layers[-1](self.penultimate(x)))

    def tie_to(self, encoder: "NeuralNetworks") -> None:
        """Use the transposed weights of the mirrored ``encoder`` layers (tied auto-encoder)."""
        mirrored = list(encoder.layers)[::-1]
        self.layers = nn.ModuleList(TiedLinear(src).to(src.weight.device) for src in mirrored)


@register("representation")
class AutoEncoder(AutoEncoderBase, TorchModel):
    """Encoder + decoder (any models with ``input_shape``); see ``AutoEncoderBase``.

    Shapes: (N, *input_shape) -> (N, *input_shape); codes via ``extract_feature_points``.
    """

    network_class = NeuralNetworks

    def forward(self, x):
        return self.decoder(self.encoder(x))


AutoEncoder.plain_class = AutoEncoder


@register("representation")
class DenoisingAutoEncoder(DenoisingAutoEncoderMixin, AutoEncoder):
    __doc__ = DenoisingAutoEncoderMixin.__doc__


@register("representation")
class StackedAutoEncoder(StackedAutoEncoderMixin, AutoEncoder):
    __doc__ = StackedAutoEncoderMixin.__doc__
