"""Small helpers shared by the data modules: random generators, lazy imports, configs."""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import numpy as np

from accelbrainbase.core.errors import InputError, MissingDependencyError


def check_seed(seed: Any) -> int | None:
    """Return ``seed`` if it is ``None`` or a non-negative integer, else raise."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be None or an integer >= 0, got {seed!r}")
    return int(seed)


def make_rng(seed: int | None) -> np.random.Generator:
    """A generator seeded by ``seed``; with ``None`` the seed is drawn from the global
    ``np.random`` state, so ``np.random.seed(...)`` makes the run reproducible."""
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    return np.random.default_rng(seed)


def check_installed(module: str, package: str, what: str) -> None:
    """Raise :class:`MissingDependencyError` naming ``pip install package`` if ``module`` is
    not installed (checked without importing it)."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise MissingDependencyError(f"{what} needs the {package!r} package: pip install {package}")


def require(module: str, package: str, what: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``pip install package``."""
    check_installed(module, package, what)
    return importlib.import_module(module)


def jsonable(value: Any) -> Any:
    """Tuples to lists and NumPy scalars to Python numbers, recursively."""
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_finite_number(what: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite real number, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{what} must be a number, got {value!r}")
    if not np.isfinite(value):
        raise InputError(f"{what} must be finite, got {value!r}")
    return float(value)
