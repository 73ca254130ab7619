"""Feature scaling fitted on training data only: min-max to [0, 1] or z-score."""
from __future__ import annotations

from typing import Any

import numpy as np

from accelbrainbase.core.errors import InputError, NotFittedError, ShapeError
from accelbrainbase.core.validation import check_array, check_choice

METHODS = ("minmax", "zscore")


class Normalizer:
    """``(x - offset_) / scale_`` with statistics over the batch axis.

    ``method="minmax"``: offset_ = min, scale_ = max - min. ``method="zscore"``: offset_ = mean,
    scale_ = std. With ``per_feature=True`` the statistics have the shape of one sample,
    otherwise they are scalars. Constant features get ``scale_ = 1`` (no division by zero).
    """

    def __init__(self, method: str = "minmax", per_feature: bool = True):
        self.method = check_choice("normalization method", method, METHODS)
        if not isinstance(per_feature, (bool, np.bool_)):
            raise InputError(f"per_feature must be True or False, got {per_feature!r}")
        self.per_feature = bool(per_feature)

    def fit(self, x: Any) -> "Normalizer":
        """Learn ``offset_`` and ``scale_`` from ``x`` (N, ...); return ``self``."""
        x = check_array("x", x, dtype=np.float64)
        if x.ndim < 2:
            raise ShapeError(f"x must have shape (N, ...) with at least 2 dimensions, got shape {x.shape}")
        axis = 0 if self.per_feature else None
        if self.method == "minmax":
            offset = x.min(axis=axis)
            scale = x.max(axis=axis) - offset
        else:
            offset = x.mean(axis=axis)
            scale = x.std(axis=axis)
        scale = np.where(scale > 0, scale, 1.0)
        self.offset_ = np.asarray(offset, dtype=np.float32)
        self.scale_ = np.asarray(scale, dtype=np.float32)
        self.sample_shape_ = x.shape[1:]
        return self

    def _check(self, x: Any) -> np.ndarray:
        if not hasattr(self, "offset_"):
            raise NotFittedError("Normalizer is not fitted; call fit(x_train) first")
        x = check_array("x", x)
        if x.shape[1:] != self.sample_shape_:
            raise ShapeError(f"x samples have shape {x.shape[1:]}, expected {self.sample_shape_} as in fit")
        return x

    def transform(self, x: Any) -> np.ndarray:
        """Scaled float32 copy of ``x``."""
        return (self._check(x) - self.offset_) / self.scale_

    def fit_transform(self, x: Any) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, x: Any) -> np.ndarray:
        """Undo :meth:`transform` (float32)."""
        return self._check(x) * self.scale_ + self.offset_

    def __repr__(self) -> str:
        return f"Normalizer(method={self.method!r}, per_feature={self.per_feature!r})"
