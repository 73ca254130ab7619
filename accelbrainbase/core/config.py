"""Hyper-parameters as plain data: every component can describe itself as JSON and be rebuilt.

scikit-learn's discipline: a constructor stores each argument as an attribute of the same name,
so the configuration is read back from the signature. Rebuilding resolves classes only inside
this package and never executes code from the file.
"""
from __future__ import annotations

import importlib
import inspect
from typing import Any

import numpy as np

from accelbrainbase.core.errors import InputError

_PACKAGE = "accelbrainbase."
_CLASS_KEY = "class"


class Configurable:
    """Mixin giving ``get_config()`` from the constructor signature."""

    def get_config(self) -> dict:
        """The constructor arguments as JSON-able data (components nest as class + config)."""
        config = {}
        excluded = set(getattr(self, "_config_exclude", ()))
        for name in constructor_parameters(type(self)):
            if name not in excluded:
                config[name] = to_plain(getattr(self, name), f"{type(self).__name__}.{name}")
        return config

    def clone(self, **changes: Any):
        """A new, unfitted instance with the same hyper-parameters, ``changes`` replacing some
        (scikit-learn's ``clone`` + ``set_params``)."""
        unknown = set(changes) - set(constructor_parameters(type(self)))
        if unknown:
            raise InputError(f"{type(self).__name__} has no hyper-parameter {', '.join(sorted(unknown))}; valid: "
                             f"{', '.join(constructor_parameters(type(self)))}")
        config = {name: from_plain(value) for name, value in self.get_config().items()}
        return type(self)(**{**config, **changes})


def constructor_parameters(cls: type) -> list:
    """Named constructor parameters, following ``**kwargs`` up the MRO to the parents' names."""
    names: list = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        more = False
        for name, param in inspect.signature(init).parameters.items():
            if param.kind is param.VAR_KEYWORD:
                more = True
            elif name != "self" and param.kind is not param.VAR_POSITIONAL and name not in names:
                names.append(name)
        if not more:
            break
    return names


def class_path(obj_or_cls: Any) -> str:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return f"{cls.__module__}:{cls.__qualname__}"


def to_plain(value: Any, where: str = "value") -> Any:
    """Convert a hyper-parameter to JSON-able data; components become {class, config}."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [to_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v, where) for k, v in value.items()}
    if hasattr(value, "get_config") and type(value).__module__.startswith(_PACKAGE):
        return {_CLASS_KEY: class_path(value), "config": value.get_config()}
    raise InputError(
        f"{where} = {value!r} cannot be saved as configuration; pass a name or an "
        "accelbrainbase component instead"
    )


def resolve_class(path: str) -> type:
    """Return the class named ``module:qualname``, allowed only inside this package."""
    module_name, _, qualname = path.partition(":")
    if not module_name.startswith(_PACKAGE) or not qualname or "." in qualname:
        raise InputError(f"refusing to load class {path!r}: only accelbrainbase classes can be loaded")
    subpackage = _PACKAGE + module_name[len(_PACKAGE):].partition(".")[0]
    try:
        cls = getattr(importlib.import_module(module_name), qualname)
    except ModuleNotFoundError as exc:
        if exc.name == subpackage:  # e.g. accelbrainbase.jax: a backend this package does not have
            from accelbrainbase.core.backends import BACKENDS

            raise InputError(f"cannot find class {path!r}: there is no {subpackage} (valid backends: "
                             f"{', '.join(BACKENDS)})") from exc
        raise InputError(f"cannot find class {path!r}: {exc}") from exc
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot find class {path!r}: {exc}") from exc
    if not isinstance(cls, type) or not hasattr(cls, "get_config"):
        raise InputError(f"{path!r} is not a configurable accelbrainbase component")
    return cls


def from_plain(value: Any) -> Any:
    """Inverse of :func:`to_plain`: rebuild nested components."""
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {_CLASS_KEY, "config"}:
            cls = resolve_class(value[_CLASS_KEY])
            return cls(**{k: from_plain(v) for k, v in value["config"].items()})
        return {k: from_plain(v) for k, v in value.items()}
    return value
