"""Post-update constraints as :class:`RegularizatableData` (PyTorch)."""
from __future__ import annotations

import torch

from accelbrainbase.core.regularizers import MaxNormBase


class MaxNorm(MaxNormBase):
    """Rescale each unit's incoming weight vector to L2 norm at most ``max_norm`` (Srivastava et
    al. 2014, "Dropout", section 5.1)."""

    @torch.no_grad()
    def regularize(self, params):
        for weight in params:
            norms = weight.norm(dim=tuple(range(1, weight.dim())), keepdim=True)
            weight.mul_(torch.clamp(self.max_norm / (norms + 1e-12), max=1.0))
