"""Post-update constraints as :class:`RegularizatableData` (MXNet)."""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional

from mxnet import gluon, nd

from accelbrainbase.core.regularizers import DEFAULT_UNIT_AXIS, MaxNormBase, UnitWeights, declared_unit_axes

_TABLE: Dict[type, Mapping[str, Optional[int]]] = {}


def layer_unit_axes() -> Dict[type, Mapping[str, Optional[int]]]:
    """Framework and project blocks whose weight does not put the unit first: transposed
    convolutions hold (in, out, k, ...), the output channel on axis 1; the tied blocks use
    their encoder's weight (``None``: the owner declares it). Built on first use, so that this
    module does not import the model modules."""
    if not _TABLE:
        from accelbrainbase.mxnet.convolutional import SameDeconvolution, TiedDeconvolution
        from accelbrainbase.mxnet.networks import TiedDense

        transposed = {"weight": 1}
        _TABLE.update({gluon.nn.Conv1DTranspose: transposed, gluon.nn.Conv2DTranspose: transposed,
                       gluon.nn.Conv3DTranspose: transposed, SameDeconvolution: transposed,
                       TiedDeconvolution: {"weight": None}, TiedDense: {"weight": None}})
    return _TABLE


def unit_weights(model: gluon.Block) -> List[UnitWeights]:
    """Every trainable weight of ``model`` with >= 2 dimensions, once (a tied weight under its
    owner), with the unit axis its layer declares (see :mod:`accelbrainbase.core.regularizers`);
    blocks are visited in ``_collect_params_with_prefix`` order."""
    table = layer_unit_axes()
    seen, weights = set(), []

    def visit(block: gluon.Block, prefix: str) -> None:
        axes = declared_unit_axes(block, table)
        for name, param in block._reg_params.items():
            axis = axes.get(name, DEFAULT_UNIT_AXIS)
            if axis is None or id(param) in seen:
                continue
            seen.add(id(param))
            if len(param.shape) >= 2 and param.grad_req != "null":
                weights.append(UnitWeights(param, axis, prefix + name))
        for name, child in block._children.items():
            visit(child, f"{prefix}{name}.")

    visit(model, "")
    return weights


class MaxNorm(MaxNormBase):
    """Rescale each unit's incoming weight vector to L2 norm at most ``max_norm`` (Srivastava et
    al. 2014, "Dropout", section 5.1)."""

    def _constrain(self, param, unit_axis: int) -> None:
        weight = param.data()
        others = tuple(d for d in range(weight.ndim) if d != unit_axis)
        norms = nd.sqrt(nd.sum(nd.square(weight), axis=others, keepdims=True))
        scale = nd.minimum(self.max_norm / (norms + 1e-12), nd.ones_like(norms))
        param.set_data(nd.broadcast_mul(weight, scale))
