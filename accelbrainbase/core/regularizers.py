"""Backend-neutral half of the regularizers: hyper-parameters, checks, and which axis of each
weight indexes the units it feeds.

The weights *into* a unit are not always a row: dense ``(out, in)`` and convolution
``(out, in, k, k)`` weights put the unit first, transposed convolutions ``(in, out, k, k)`` put
it second, and RBM / DBM weights ``(n_visible, n_hidden)`` hold the hidden unit ``j``'s weights
in column ``j``. Each layer kind declares its axis once: a model or block through a class
attribute ``unit_axes = {"weight": 1}`` naming its own parameters, a framework layer through
its backend's ``LAYER_UNIT_AXES`` table; anything undeclared uses the framework layout (axis 0).
The backends' ``unit_weights(model)`` hand the regularizers :class:`UnitWeights`.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, NamedTuple, Optional, Tuple

from accelbrainbase.core.config import Configurable
from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import RegularizatableData
from accelbrainbase.core.validation import check_positive

#: the unit axis of weights nobody declares: the frameworks' (out, in, ...) layout
DEFAULT_UNIT_AXIS = 0


class UnitWeights(NamedTuple):
    """A weight parameter (the backend's object) and the axis along which index ``j`` selects
    the weights into unit ``j`` (``name``: its structural name, for messages)."""

    param: Any
    unit_axis: int
    name: str = ""


def declared_unit_axes(block: Any, layer_table: Mapping[type, Mapping[str, Optional[int]]]) -> Dict[str, Optional[int]]:
    """The unit axis of each of ``block``'s own parameters, by local name: the block's
    ``unit_axes`` attribute, else the first class of its MRO in ``layer_table``, else none.
    ``None`` marks a parameter the block uses but does not own (a tied weight): its owner
    declares it."""
    own = getattr(block, "unit_axes", None)
    if own is not None:
        return dict(own)
    for cls in type(block).__mro__:
        if cls in layer_table:
            return dict(layer_table[cls])
    return {}


def as_unit_weights(item: Any) -> Tuple[Any, int, str]:
    """``(param, unit_axis, name)`` of a :class:`UnitWeights` or of a bare parameter (axis 0)."""
    if isinstance(item, UnitWeights):
        return item.param, item.unit_axis, item.name or "weight"
    return item, DEFAULT_UNIT_AXIS, "weight"


class MaxNormBase(Configurable, RegularizatableData):
    """Max-norm constraint (Srivastava et al. 2014, "Dropout", section 5.1): after each step,
    ``w_j <- w_j * min(1, c / ||w_j||)`` for the incoming weight vector ``w_j`` of every unit
    ``j`` of every weight (dense rows, convolution filters, transposed-convolution output
    channels, RBM / DBM hidden columns: see :class:`UnitWeights`); biases are left alone.

    ``regularize(params)`` takes :class:`UnitWeights` (what the models pass) or bare parameters,
    read in the frameworks' (out, in, ...) layout."""

    def __init__(self, max_norm: float = 3.0):
        self.max_norm = check_positive("max_norm", max_norm)

    def regularize(self, params: Iterable[Any]) -> None:
        for item in params:
            param, axis, name = as_unit_weights(item)
            ndim = len(param.shape)
            if ndim < 2:
                raise ShapeError(f"MaxNorm constrains weights with at least 2 dimensions; {name} has shape "
                                 f"{tuple(param.shape)}")
            if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < ndim:
                raise InputError(f"the unit axis of {name} {tuple(param.shape)} must be an integer in "
                                 f"[0, {ndim - 1}], got {axis!r}")
            self._constrain(param, axis)

    def _constrain(self, param: Any, unit_axis: int) -> None:
        """Rescale, in place, each slice along ``unit_axis`` to L2 norm at most ``max_norm``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_norm={self.max_norm:g})"
