"""Saving without pickle: ``model.json`` (class + hyper-parameters) and safetensors weights.

The weights file is written first under a fresh name; replacing ``model.json`` is the single
atomic commit point, so a save interrupted at any moment leaves the previous checkpoint whole.
Weights use the canonical NumPy names, so a model saved by one backend loads in the other.
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Any

import numpy as np

from accelbrainbase.core.backends import BACKENDS
from accelbrainbase.core.config import class_path, from_plain, resolve_class
from accelbrainbase.core.errors import InputError

FORMAT = 1
MANIFEST = "model.json"


def _write_durably(path: str, write) -> None:
    partial = path + ".partial"
    write(partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, path)


def save_model(model: Any, directory: str) -> str:
    """Write ``model`` to ``directory`` (created if needed); return the directory."""
    from safetensors.numpy import save_file

    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    state = {k: np.ascontiguousarray(v) for k, v in model.export_state().items()}
    weights = f"weights-{uuid.uuid4().hex[:12]}.safetensors"
    _write_durably(os.path.join(directory, weights), lambda p: save_file(state, p))
    manifest = {
        "format": FORMAT,
        "class": class_path(model),
        "config": model.get_config(),
        "weights": weights,
        "history": model.history_.rows,
    }
    text = json.dumps(manifest, indent=1)
    _write_durably(os.path.join(directory, MANIFEST), lambda p: open(p, "w").write(text))
    for name in os.listdir(directory):  # the commit succeeded: drop older weights and leftovers
        if name != weights and (name.startswith("weights-") or name.endswith(".partial")):
            os.remove(os.path.join(directory, name))
    return directory


def _swap_backend(value: Any, backend: str) -> Any:
    if isinstance(value, list):
        return [_swap_backend(v, backend) for v in value]
    if isinstance(value, dict):
        return {k: _swap_backend(v, backend) for k, v in value.items()}
    if isinstance(value, str):
        for other in BACKENDS:
            prefix = f"accelbrainbase.{other}."
            if value.startswith(prefix) and ":" in value:
                return f"accelbrainbase.{backend}." + value[len(prefix):]
    return value


def load_model(directory: str, backend: str | None = None, device: str | None = None) -> Any:
    """Rebuild a saved model; ``backend`` loads it into the other framework, ``device`` moves it."""
    from safetensors.numpy import load_file

    path = os.path.join(os.fspath(directory), MANIFEST)
    if not os.path.exists(path):
        raise InputError(f"no saved model in {directory!r} (missing {MANIFEST})")
    with open(path) as handle:
        manifest = json.load(handle)
    if manifest.get("format") != FORMAT:
        raise InputError(f"{path} has format {manifest.get('format')!r}; this version reads {FORMAT}")
    config, cls_path = manifest["config"], manifest["class"]
    if backend is not None:
        config, cls_path = _swap_backend(config, backend), _swap_backend(cls_path, backend)
    if device is not None and "device" in config:
        config = dict(config, device=device)
    model = resolve_class(cls_path)(**from_plain(config))
    model.import_state(load_file(os.path.join(os.fspath(directory), manifest["weights"])))
    for row in manifest.get("history", []):
        model.history_.append(row)
    return model
