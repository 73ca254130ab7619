"""Backend-neutral half of the regularizers: hyper-parameters and checks."""
from __future__ import annotations

from accelbrainbase.core.config import Configurable
from accelbrainbase.core.interfaces import RegularizatableData
from accelbrainbase.core.validation import check_positive


class MaxNormBase(Configurable, RegularizatableData):
    """Max-norm constraint: after each step, ``w_j <- w_j * min(1, c / ||w_j||)`` for every row
    ``w_j`` (the weights into unit ``j``) of every weight matrix; biases are left alone."""

    def __init__(self, max_norm: float = 3.0):
        self.max_norm = check_positive("max_norm", max_norm)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_norm={self.max_norm:g})"
