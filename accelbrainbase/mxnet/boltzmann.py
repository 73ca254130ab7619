"""Boltzmann machines (MXNet Gluon). The sampling and learning math is in models/boltzmann.py."""
from __future__ import annotations

import mxnet as mx

from accelbrainbase.models.boltzmann import RestrictedBoltzmannMachinesBase
from accelbrainbase.models.deep_boltzmann import DeepBeliefNetworksBase, DeepBoltzmannMachinesBase
from accelbrainbase.core.registry import register
from accelbrainbase.mxnet._glue import GluonModel


@register("representation")
class RestrictedBoltzmannMachines(RestrictedBoltzmannMachinesBase, GluonModel):
    __doc__ = RestrictedBoltzmannMachinesBase.__doc__

    def hybrid_forward(self, F, v, weight, visible_bias, hidden_bias):
        """Mean-field reconstruction E[v | p(h | v)] with the ``up_factor`` / ``down_factor`` of
        DBM pre-training (see ``forward_math``), written with ``F`` so it hybridizes."""
        up = F.dot(v, weight)
        h = F.sigmoid(F.broadcast_add(up if self.up_factor == 1 else self.up_factor * up, hidden_bias))
        down = F.dot(h, weight, transpose_b=True)
        pre = F.broadcast_add(down if self.down_factor == 1 else self.down_factor * down, visible_bias)
        return F.sigmoid(pre) if self.visible == "bernoulli" else pre

    def __setattr__(self, name, value):
        """The factors are constants of the hybridized graph: changing one rebuilds it."""
        if name in ("up_factor", "down_factor") and getattr(self, name) != value:
            self._clear_cached_op()
        super().__setattr__(name, value)


def _value(F, param, like):
    """A parameter inside ``hybrid_forward``: its symbol when hybridized, else its NDArray."""
    return param.var() if F is mx.sym else param.data(like.context)


@register("representation")
class DeepBeliefNetworks(DeepBeliefNetworksBase, GluonModel):
    __doc__ = DeepBeliefNetworksBase.__doc__
    rbm_class = RestrictedBoltzmannMachines

    def hybrid_forward(self, F, v):
        """Reconstruction of the unrolled auto-encoder, written with ``F`` so it hybridizes."""
        layers = [(_value(F, r.weight, v), _value(F, r.visible_bias, v), _value(F, r.hidden_bias, v))
                  for r in (self.rbms[i] for i in range(len(self.rbms)))]
        h = v
        for weight, _, hidden_bias in layers:
            h = F.sigmoid(F.broadcast_add(F.dot(h, weight), hidden_bias))
        for i in reversed(range(len(layers))):
            weight, visible_bias, _ = layers[i]
            pre = F.broadcast_add(F.dot(h, weight, transpose_b=True), visible_bias)
            h = pre if i == 0 and self.visible == "gaussian" else F.sigmoid(pre)
        return h


@register("representation")
class DeepBoltzmannMachines(DeepBoltzmannMachinesBase, GluonModel):
    __doc__ = DeepBoltzmannMachinesBase.__doc__
    rbm_class = RestrictedBoltzmannMachines

    def hybrid_forward(self, F, v, **params):
        """E[v | mu1] after exactly ``mean_field_steps`` sweeps, written with ``F`` (hybridizes)."""
        n = self.n_layers
        weights = [params[f"weight{l}"] for l in range(n)]
        biases = [params[f"bias{l}"] for l in range(n + 1)]
        states = [v]
        for l in range(1, n + 1):  # the doubled up pass
            product = F.dot(states[l - 1], weights[l - 1])
            states.append(F.sigmoid(F.broadcast_add(2.0 * product if l < n else product, biases[l])))
        for _ in range(self.mean_field_steps):
            for l in range(1, n + 1):
                pre = F.dot(states[l - 1], weights[l - 1])
                if l < n:
                    pre = pre + F.dot(states[l + 1], weights[l], transpose_b=True)
                states[l] = F.sigmoid(F.broadcast_add(pre, biases[l]))
        pre = F.broadcast_add(F.dot(states[1], weights[0], transpose_b=True), biases[0])
        return F.sigmoid(pre) if self.visible == "bernoulli" else pre
