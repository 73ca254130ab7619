"""Which backends exist and how to import them with a helpful error."""
from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

from accelbrainbase.core.errors import MissingDependencyError
from accelbrainbase.core.validation import check_choice

BACKENDS = ("torch", "mxnet")

_INSTALL = {
    "torch": "pip install 'accelbrainbase[torch]'  (or: pip install torch==2.13.0)",
    "mxnet": "pip install 'accelbrainbase[mxnet]' in a Python 3.11 environment with numpy<1.24 "
    "(or: make .venv-mxnet)",
}


def require_framework(name: str) -> ModuleType:
    """Import the deep-learning framework ``name`` or raise naming the extra to install."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {name} backend needs the {name!r} package, which could not be imported "
            f"({exc}). Install it with: {_INSTALL[name]}"
        ) from exc


def restore_torch_threads() -> None:
    """Importing mxnet sets the process's OpenMP threads to 1, which torch then inherits; give
    torch one thread per available core again (called by both backends after their import).
    An explicit ``OMP_NUM_THREADS`` is respected."""
    torch = sys.modules.get("torch")
    if os.environ.get("OMP_NUM_THREADS"):
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if torch is not None and "mxnet" in sys.modules and torch.get_num_threads() == 1 and cores > 1:
        torch.set_num_threads(cores)


def get_backend(name: str) -> ModuleType:
    """Return ``accelbrainbase.torch`` or ``accelbrainbase.mxnet`` (importing it registers its models)."""
    check_choice("backend", name, BACKENDS)
    return importlib.import_module(f"accelbrainbase.{name}")


def available_backends() -> tuple:
    """Backends whose framework imports here."""
    found = []
    for name in BACKENDS:
        try:
            require_framework(name)
        except MissingDependencyError:
            continue
        found.append(name)
    return tuple(found)
