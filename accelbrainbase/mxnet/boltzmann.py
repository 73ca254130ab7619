"""Boltzmann machines (MXNet Gluon). The sampling and learning math is in core/boltzmann.py."""
from __future__ import annotations

from typing import Iterable

import mxnet as mx

from accelbrainbase.core.boltzmann import DEFAULT_RBM_OPTIMIZER, RestrictedBoltzmannMachinesBase
from accelbrainbase.core.registry import register
from accelbrainbase.mxnet._glue import GluonModel


@register("representation")
class RestrictedBoltzmannMachines(RestrictedBoltzmannMachinesBase, GluonModel):
    __doc__ = RestrictedBoltzmannMachinesBase.__doc__

    def __init__(self, n_visible: int, n_hidden: int, visible: str = "bernoulli", k: int = 1,
                 persistent: bool = False, optimizer=DEFAULT_RBM_OPTIMIZER,
                 regularizers: Iterable = (), device: str = "cpu"):
        super().__init__()
        self._check_rbm(n_visible, n_hidden, visible, k, persistent)
        self.weight = self.params.get("weight", shape=(self.n_visible, self.n_hidden),
                                      init=mx.init.Normal(0.01))
        self.visible_bias = self.params.get("visible_bias", shape=(self.n_visible,), init="zeros")
        self.hidden_bias = self.params.get("hidden_bias", shape=(self.n_hidden,), init="zeros")
        self._setup_learning("mse", optimizer, regularizers, device)

    def rbm_parameters(self):
        return self.weight.data(), self.visible_bias.data(), self.hidden_bias.data()

    def hybrid_forward(self, F, v, weight, visible_bias, hidden_bias):
        """Mean-field reconstruction, written with ``F`` so it hybridizes."""
        h = F.sigmoid(F.broadcast_add(F.dot(v, weight), hidden_bias))
        pre = F.broadcast_add(F.dot(h, weight, transpose_b=True), visible_bias)
        return F.sigmoid(pre) if self.visible == "bernoulli" else pre
