"""Boltzmann machines (PyTorch). The sampling and learning math is in core/boltzmann.py."""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from accelbrainbase.core.boltzmann import DEFAULT_RBM_OPTIMIZER, RestrictedBoltzmannMachinesBase
from accelbrainbase.core.deep_boltzmann import DeepBeliefNetworksBase, DeepBoltzmannMachinesBase
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


@register("representation")
class DeepBeliefNetworks(DeepBeliefNetworksBase, TorchModel):
    __doc__ = DeepBeliefNetworksBase.__doc__
    rbm_class = RestrictedBoltzmannMachines

    def __init__(self, units, visible: str = "bernoulli", k: int = 1, persistent: bool = False,
                 pretrain_epochs: int = 10, optimizer=DEFAULT_RBM_OPTIMIZER,
                 regularizers: Iterable = (), device: str = "cpu"):
        super().__init__()
        rbms = self._check_dbn(units, visible, k, persistent, pretrain_epochs, optimizer,
                               regularizers, device)
        self.rbms = nn.ModuleList(rbms)
        self._setup_learning("mse", optimizer, regularizers, device)

    def forward(self, v):
        """Reconstruction of the unrolled auto-encoder, (N, n_visible) -> (N, n_visible)."""
        return self.decode_tensor(self.encode_tensor(v))


@register("representation")
class DeepBoltzmannMachines(DeepBoltzmannMachinesBase, TorchModel):
    __doc__ = DeepBoltzmannMachinesBase.__doc__
    rbm_class = RestrictedBoltzmannMachines

    def __init__(self, units, visible: str = "bernoulli", pretrain_epochs: int = 10,
                 mean_field_steps: int = 10, mean_field_tol: float = 1e-5, gibbs_steps: int = 1,
                 n_chains: int = 100, optimizer=DEFAULT_RBM_OPTIMIZER, regularizers: Iterable = (),
                 device: str = "cpu"):
        super().__init__()
        self._check_dbm(units, visible, pretrain_epochs, mean_field_steps, mean_field_tol,
                        gibbs_steps, n_chains)
        for l, (a, b) in enumerate(zip(self.units[:-1], self.units[1:])):
            setattr(self, f"weight{l}", nn.Parameter(torch.randn(a, b) * 0.01))
        for l, a in enumerate(self.units):
            setattr(self, f"bias{l}", nn.Parameter(torch.zeros(a)))
        self._setup_learning("mse", optimizer, regularizers, device)

    def dbm_parameters(self):
        """([weight0, ..., weight{L-1}], [bias0, ..., bias{L}]) as tensors."""
        return ([getattr(self, f"weight{l}") for l in range(self.n_layers)],
                [getattr(self, f"bias{l}") for l in range(self.n_layers + 1)])

    def forward(self, v):
        """E[v | mu1] after exactly ``mean_field_steps`` sweeps (the exported graph)."""
        return self.reconstruction_tensor(v, tol=0.0)
