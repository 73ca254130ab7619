"""Boltzmann machines (PyTorch). The sampling and learning math is in core/boltzmann.py."""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from accelbrainbase.core.boltzmann import DEFAULT_RBM_OPTIMIZER, RestrictedBoltzmannMachinesBase
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import TorchModel


@register("representation")
class RestrictedBoltzmannMachines(RestrictedBoltzmannMachinesBase, TorchModel):
    __doc__ = RestrictedBoltzmannMachinesBase.__doc__

    def __init__(self, n_visible: int, n_hidden: int, visible: str = "bernoulli", k: int = 1,
                 persistent: bool = False, optimizer=DEFAULT_RBM_OPTIMIZER,
                 regularizers: Iterable = (), device: str = "cpu"):
        super().__init__()
        self._check_rbm(n_visible, n_hidden, visible, k, persistent)
        self.weight = nn.Parameter(torch.randn(self.n_visible, self.n_hidden) * 0.01)
        self.visible_bias = nn.Parameter(torch.zeros(self.n_visible))
        self.hidden_bias = nn.Parameter(torch.zeros(self.n_hidden))
        self._setup_learning("mse", optimizer, regularizers, device)

    def rbm_parameters(self):
        return self.weight, self.visible_bias, self.hidden_bias

    def forward(self, v):
        return self.forward_math(v)
