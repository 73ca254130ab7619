"""Checks shared by every component; each raises a clear error before any work is done."""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError


def check_choice(what: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise raise listing the valid names."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"unknown {what} {value!r}; valid: {', '.join(choices)}")
    return value


def check_positive(what: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> Any:
    """Return ``value`` if it is a (non-negative / positive) number, else raise."""
    kind = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind + (np.integer, np.floating)):
        raise InputError(f"{what} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{what} must be {bound}, got {value!r}")
    return int(value) if integer else float(value)


def check_fraction(what: str, value: Any, *, allow_zero: bool = True, allow_one: bool = False) -> float:
    """Return ``value`` if it lies in [0, 1) (bounds configurable), else raise."""
    value = check_positive(what, value, allow_zero=allow_zero)
    if value > 1 or (value == 1 and not allow_one):
        raise InputError(f"{what} must be {'<= 1' if allow_one else '< 1'}, got {value!r}")
    return value


def check_array(
    what: str,
    arr: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    n_features: int | None = None,
    dtype: Any = np.float32,
    allow_nan: bool = False,
) -> np.ndarray:
    """Convert to a NumPy array and check it is non-empty, finite and of the expected shape.

    ``n_features`` is compared with ``arr.shape[1]`` and the message says expected vs. got.
    """
    if arr is None:
        raise InputError(f"{what} is None")
    try:
        out = np.asarray(arr, dtype=dtype) if dtype is not None else np.asarray(arr)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} cannot be converted to a numeric array: {exc}") from exc
    if out.size == 0 or (out.ndim > 0 and out.shape[0] == 0):
        raise InputError(f"{what} is empty (shape {out.shape})")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if out.ndim not in allowed:
            raise ShapeError(
                f"{what} must have {' or '.join(map(str, allowed))} dimensions, got shape {out.shape}"
            )
    if n_features is not None and (out.ndim < 2 or out.shape[1] != n_features):
        got = out.shape[1] if out.ndim >= 2 else f"shape {out.shape}"
        raise ShapeError(f"{what} has the wrong number of features: expected {n_features}, got {got}")
    if not allow_nan and np.issubdtype(out.dtype, np.floating) and not np.isfinite(out).all():
        bad = np.argwhere(~np.isfinite(out))[0]
        raise InputError(f"{what} contains NaN or infinite values (first at index {tuple(bad)})")
    return out


def check_same_length(what_a: str, a: np.ndarray, what_b: str, b: np.ndarray) -> None:
    """Raise if two arrays do not have the same number of samples."""
    if len(a) != len(b):
        raise ShapeError(f"{what_b} has {len(b)} samples but {what_a} has {len(a)}; they must match")


def check_binary_labels(what: str, labels: Any, shape: Optional[tuple] = None, both: bool = True) -> np.ndarray:
    """Labels of 0 (normal) and 1 (anomaly) as int64; ``both`` requires both classes."""
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iub" and not (arr.dtype.kind == "f" and np.isin(arr, (0.0, 1.0)).all()):
        raise InputError(f"{what} must hold 0 (normal) and 1 (anomaly), got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size == 0:
        raise InputError(f"{what} is empty")
    if not np.isin(arr, (0, 1)).all():
        raise InputError(f"{what} must hold only 0 (normal) and 1 (anomaly), got values {np.unique(arr)[:5]}")
    if shape is not None and arr.shape != tuple(shape):
        raise ShapeError(f"{what} has shape {arr.shape}, expected {tuple(shape)}")
    if both and len(np.unique(arr)) < 2:
        raise InputError(f"{what} must contain both normal (0) and anomalous (1) samples, "
                         f"got only {int(arr.flat[0])}")
    return arr
