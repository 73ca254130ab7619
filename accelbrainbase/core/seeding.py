"""One call seeds every random number generator the library uses."""
from __future__ import annotations

import importlib
import importlib.util
import os
import random
import sys

import numpy as np


def seed_everything(seed: int) -> int:
    """Seed Python, NumPy, and torch / mxnet where installed; return the seed.

    Components created afterwards without an explicit ``seed`` draw theirs from NumPy's global
    generator, so one call makes a whole run reproducible.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    for name in ("torch", "mxnet"):
        if name in sys.modules or importlib.util.find_spec(name) is not None:
            _seed_framework(name, seed)
    return seed


def _seed_framework(name: str, seed: int) -> None:
    try:
        module = importlib.import_module(name)
    except Exception:  # an installed but broken framework must not break seeding of the others
        return
    if name == "torch":
        module.manual_seed(seed)
    else:
        module.random.seed(seed)


