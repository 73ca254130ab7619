"""Boltzmann machines (PyTorch). The sampling and learning math is in models/boltzmann.py."""
from __future__ import annotations

from accelbrainbase.models.boltzmann import RestrictedBoltzmannMachinesBase
from accelbrainbase.models.deep_boltzmann import DeepBeliefNetworksBase, DeepBoltzmannMachinesBase
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import TorchModel


@register("representation")
class RestrictedBoltzmannMachines(RestrictedBoltzmannMachinesBase, TorchModel):
    __doc__ = RestrictedBoltzmannMachinesBase.__doc__

    def forward(self, v):
        return self.forward_math(v)


@register("representation")
class DeepBeliefNetworks(DeepBeliefNetworksBase, TorchModel):
    __doc__ = DeepBeliefNetworksBase.__doc__
    rbm_class = RestrictedBoltzmannMachines

    def forward(self, v):
        """Reconstruction of the unrolled auto-encoder, (N, n_visible) -> (N, n_visible)."""
        return self.decode_tensor(self.encode_tensor(v))


@register("representation")
class DeepBoltzmannMachines(DeepBoltzmannMachinesBase, TorchModel):
    __doc__ = DeepBoltzmannMachinesBase.__doc__
    rbm_class = RestrictedBoltzmannMachines

    def forward(self, v):
        """E[v | mu1] after exactly ``mean_field_steps`` sweeps (the exported graph)."""
        return self.reconstruction_tensor(v, tol=0.0)
