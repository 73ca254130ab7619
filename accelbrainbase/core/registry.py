"""Models per problem setting. The workbench, the CLI and the contract tests iterate over it.

A backend module registers a class with ``@register("representation")``; the backend is read
from the class's module (``accelbrainbase.torch...`` or ``accelbrainbase.mxnet...``).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from accelbrainbase.core.backends import BACKENDS, get_backend
from accelbrainbase.core.validation import check_choice

SETTINGS = ("representation", "anomaly-detection", "classification", "generation")

_REGISTRY: Dict[Tuple[str, str], Dict[str, type]] = {}


def register(*settings: str):
    """Class decorator: list the model under each problem setting for its backend."""
    for setting in settings:
        check_choice("problem setting", setting, SETTINGS)

    def decorate(cls: type) -> type:
        backend = cls.__module__.split(".")[1]
        check_choice("backend", backend, BACKENDS)
        if not hasattr(cls, "example"):
            raise TypeError(f"{cls.__name__} needs a classmethod example(n_features) to be registered")
        for setting in settings:
            _REGISTRY.setdefault((setting, backend), {})[cls.__name__] = cls
        return cls

    return decorate


def models(setting: str, backend: str) -> Dict[str, type]:
    """Registered model classes for ``setting`` in ``backend`` (imports the backend)."""
    check_choice("problem setting", setting, SETTINGS)
    get_backend(backend)
    return dict(_REGISTRY.get((setting, backend), {}))


def model_names(setting: str, backend: str) -> List[str]:
    return sorted(models(setting, backend))
