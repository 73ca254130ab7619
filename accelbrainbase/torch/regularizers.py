"""Post-update constraints as :class:`RegularizatableData` (PyTorch)."""
from __future__ import annotations

from typing import List

import torch
from torch import nn

from accelbrainbase.core.regularizers import DEFAULT_UNIT_AXIS, MaxNormBase, UnitWeights, declared_unit_axes

#: framework layers whose weight does not put the unit first: transposed convolutions hold
#: (in, out / groups, k, ...), the output channel on axis 1
LAYER_UNIT_AXES = {nn.ConvTranspose1d: {"weight": 1}, nn.ConvTranspose2d: {"weight": 1},
                   nn.ConvTranspose3d: {"weight": 1}}


def layer_unit_axes() -> dict:
    """The framework layers' declarations (as in the mxnet backend)."""
    return LAYER_UNIT_AXES


def unit_weights(model: nn.Module) -> List[UnitWeights]:
    """Every trainable weight of ``model`` with >= 2 dimensions, once (a tied weight under its
    owner), with the unit axis its layer declares (see :mod:`accelbrainbase.core.regularizers`)."""
    seen, weights = set(), []
    for prefix, module in model.named_modules():
        axes = declared_unit_axes(module, layer_unit_axes())
        for name, param in module.named_parameters(recurse=False):
            axis = axes.get(name, DEFAULT_UNIT_AXIS)
            if axis is None or id(param) in seen:
                continue
            seen.add(id(param))
            if param.dim() >= 2 and param.requires_grad:
                weights.append(UnitWeights(param, axis, f"{prefix}.{name}" if prefix else name))
    return weights


class MaxNorm(MaxNormBase):
    """Rescale each unit's incoming weight vector to L2 norm at most ``max_norm`` (Srivastava et
    al. 2014, "Dropout", section 5.1)."""

    @torch.no_grad()
    def _constrain(self, param, unit_axis: int) -> None:
        others = tuple(d for d in range(param.dim()) if d != unit_axis)
        norms = torch.linalg.vector_norm(param, dim=others, keepdim=True)
        param.mul_(torch.clamp(self.max_norm / (norms + 1e-12), max=1.0))
