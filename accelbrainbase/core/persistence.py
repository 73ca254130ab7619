"""Saving without pickle: ``model.json`` (class + hyper-parameters) and safetensors weights.

The weights file is written first under a fresh name; replacing ``model.json`` is the single
atomic commit point, so a save interrupted at any moment leaves the previous checkpoint whole.
Weights use the canonical NumPy names, so a model saved by one backend loads in the other.
"""
from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from accelbrainbase.core.backends import BACKENDS
from accelbrainbase.core.config import class_path, from_plain, resolve_class
from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.validation import check_choice

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


_MANIFEST_KEYS = {"class": (str, "a string"), "config": (dict, "an object"), "weights": (str, "a string"),
                  "history": (list, "a list")}


def _read_manifest(path: str) -> dict:
    """``model.json`` checked for the keys and types loading needs; else InputError naming it."""
    try:
        with open(path, "rb") as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start} ({exc.reason})") from exc
    except (ValueError, RecursionError) as exc:  # bad JSON, a number of > 4300 digits, deep nesting
        raise InputError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise InputError(f"{path} must hold a JSON object, got {type(manifest).__name__}")
    if manifest.get("format") != FORMAT:
        raise InputError(f"{path} has format {manifest.get('format')!r}; this version reads {FORMAT}")
    for key, (kind, name) in _MANIFEST_KEYS.items():
        if key not in manifest and key != "history":
            raise InputError(f"{path} lacks the key {key!r}")
        if key in manifest and not isinstance(manifest[key], kind):
            raise InputError(f"{path}: {key!r} must be {name}, got {str(manifest[key])[:80]!r}")
    weights = manifest["weights"]
    if weights in ("", ".", "..") or "\0" in weights or os.path.basename(weights) != weights \
            or (os.altsep and os.altsep in weights):
        raise InputError(f"{path}: 'weights' must name a file inside the model folder, got {weights!r}")
    for i, row in enumerate(manifest.get("history", [])):
        epoch = row.get("epoch") if isinstance(row, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise InputError(f"{path}: history row {i} must be an object with an integer 'epoch', "
                             f"got {str(row)[:80]!r}")
    return manifest


def _read_weights(path: str) -> dict:
    """The arrays of a safetensors file (real numbers only); else InputError naming it."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if not os.path.isfile(path):
        raise InputError(f"weights file {path} named in {MANIFEST} is missing")
    try:
        state = load_file(path)
    except (SafetensorError, OSError, ValueError, TypeError, AttributeError, OverflowError, MemoryError) as exc:
        # TypeError / AttributeError: a dtype NumPy does not have (bfloat16, float8)
        raise InputError(f"weights file {path} is damaged or not a safetensors file: {exc}") from exc
    for name, value in state.items():
        if value.dtype.kind not in "fiub":
            raise InputError(f"weights file {path}: tensor {name!r} has dtype {value.dtype}; expected real numbers")
    return state


@contextmanager
def _blaming(where: str) -> Iterator[None]:
    """Re-raise what a bad file makes constructors or ``import_state`` raise, prefixed by ``where``
    (the file and what was being done)."""
    try:
        yield
    except InputError as exc:
        if type(exc) not in (InputError, ShapeError):
            raise
        raise type(exc)(f"{where}: {exc}") from exc
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        raise InputError(f"{where}: {type(exc).__name__}: {exc}") from exc


def load_model(directory: str, backend: str | None = None, device: str | None = None) -> Any:
    """Rebuild a saved model; ``backend`` loads it into the other framework, ``device`` moves it.

    A damaged or inconsistent ``model.json`` or weights file raises :class:`InputError` (or
    :class:`ShapeError`) naming the file and what was wrong; an unknown ``backend`` raises
    :class:`InputError` listing the valid ones.
    """
    if backend is not None:
        check_choice("backend", backend, BACKENDS)
    path = os.path.join(os.fspath(directory), MANIFEST)
    if not os.path.exists(path):
        raise InputError(f"no saved model in {directory!r} (missing {MANIFEST})")
    manifest = _read_manifest(path)
    config, cls_path = manifest["config"], manifest["class"]
    if backend is not None:
        config, cls_path = _swap_backend(config, backend), _swap_backend(cls_path, backend)
    if device is not None and "device" in config:
        config = dict(config, device=device)
    with _blaming(f"{path}: cannot rebuild {cls_path} from its config"):
        model = resolve_class(cls_path)(**from_plain(config))
    weights = os.path.join(os.fspath(directory), manifest["weights"])
    state = _read_weights(weights)
    with _blaming(f"weights file {weights} does not fit the model described in {path}"):
        model.import_state(state)
    for row in manifest.get("history", []):
        model.history_.append(row)
    return model
