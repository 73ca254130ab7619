"""Cross-cutting features of the learning loop, in Lightning's vocabulary.

Hooks receive the model; ``logs`` are plain floats. A callback sets ``model.stop_training``
to end learning after the current epoch.
"""
from __future__ import annotations

import csv
import math
import os
import sys
import time
from typing import Dict, Iterable, List, Optional, TextIO

from accelbrainbase.core.errors import InputError


class Callback:
    """Base class with no-op hooks."""

    def on_train_start(self, model, epochs: int, batches_per_epoch: Optional[int]) -> None: ...

    def on_epoch_start(self, model, epoch: int) -> None: ...

    def on_batch_end(self, model, batch: int, logs: Dict[str, float]) -> None: ...

    def on_epoch_end(self, model, epoch: int, logs: Dict[str, float]) -> None: ...

    def on_train_end(self, model) -> None: ...


class CallbackList:
    """Dispatches hooks; ``on_batch_end`` goes only to callbacks that override it (hot path)."""

    def __init__(self, callbacks: Iterable[Callback]):
        self.callbacks: List[Callback] = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise InputError(f"callbacks must be Callback instances, got {cb!r}")
        self._batch = [cb for cb in self.callbacks if type(cb).on_batch_end is not Callback.on_batch_end]

    def on_train_start(self, model, epochs, batches_per_epoch):
        for cb in self.callbacks:
            cb.on_train_start(model, epochs, batches_per_epoch)

    def on_epoch_start(self, model, epoch):
        for cb in self.callbacks:
            cb.on_epoch_start(model, epoch)

    def on_batch_end(self, model, batch, logs):
        for cb in self._batch:
            cb.on_batch_end(model, batch, logs)

    def on_epoch_end(self, model, epoch, logs):
        for cb in self.callbacks:
            cb.on_epoch_end(model, epoch, logs)

    def on_train_end(self, model):
        for cb in self.callbacks:
            cb.on_train_end(model)


def _interactive(stream) -> bool:
    """A terminal, or a Jupyter kernel's own output (where tqdm draws a widget)."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel") and stream in (sys.stdout, sys.stderr)


class ProgressBar(Callback):
    """A tqdm bar over all batches of all epochs, with the latest losses as postfix, when the
    output is a terminal; otherwise (``make demo 2> log``, CI) one plain line per epoch, so logs
    get no carriage-return redraws. ``file``: the stream written to (default: standard error)."""

    def __init__(self, description: str | None = None, leave: bool = False, interval: float = 0.1,
                 file: Optional[TextIO] = None):
        self.description = description
        self.leave = leave
        self.interval = interval  # seconds between redraws: keeps the bar off the hot path
        self.file = file
        self._bar = None
        self._lines = False  # one line per epoch instead of a bar
        self._epochs = 0
        self._pending = 0
        self._last = 0.0

    def on_train_start(self, model, epochs, batches_per_epoch):
        stream = sys.stderr if self.file is None else self.file
        self._epochs, self._pending = epochs, 0
        self._lines = not _interactive(stream)
        if self._lines:
            return
        from tqdm.auto import tqdm

        total = epochs * batches_per_epoch if batches_per_epoch else None
        self._bar = tqdm(total=total, desc=self.description or type(model).__name__,
                         leave=self.leave, unit="batch", dynamic_ncols=True, file=stream)

    def on_batch_end(self, model, batch, logs):
        self._pending += 1
        if self._lines:
            return
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._bar.update(self._pending)
            self._pending, self._last = 0, now

    def on_epoch_end(self, model, epoch, logs):
        shown = {k: f"{v:.4g}" for k, v in logs.items() if k not in ("epoch", "seconds")}
        if self._lines:
            stream = sys.stderr if self.file is None else self.file
            seconds = f", {logs['seconds']:.2f} s" if "seconds" in logs else ""
            values = "  ".join(f"{k} {v}" for k, v in shown.items())
            print(f"{self.description or type(model).__name__} epoch {epoch + 1}/{self._epochs} "
                  f"({self._pending} batches{seconds}): {values}", file=stream, flush=True)
            self._pending = 0
            return
        self._bar.update(self._pending)
        self._pending = 0
        self._bar.set_postfix(epoch=epoch + 1, **shown, refresh=False)

    def on_train_end(self, model):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model ends with the weights of its best epoch.
    """

    def __init__(self, monitor: str = "test_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "min", restore_best_weights: bool = True):
        if mode not in ("min", "max"):
            raise InputError(f"unknown mode {mode!r}; valid: min, max")
        if not isinstance(patience, int) or patience < 1:
            raise InputError(f"patience must be an integer >= 1, got {patience!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, float(min_delta)
        self.mode, self.restore_best_weights = mode, restore_best_weights
        self.best: float = math.inf
        self.best_epoch: Optional[int] = None
        self.stopped_epoch: Optional[int] = None
        self._best_state = None
        self._wait = 0

    def on_train_start(self, model, epochs, batches_per_epoch):
        self.best, self.best_epoch, self.stopped_epoch = math.inf, None, None
        self._best_state, self._wait = None, 0

    def on_epoch_end(self, model, epoch, logs):
        if self.monitor not in logs:
            raise InputError(
                f"EarlyStopping monitors {self.monitor!r}, which the history does not have; "
                f"available: {', '.join(sorted(logs))}"
            )
        value = logs[self.monitor] if self.mode == "min" else -logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_state = model.export_state()
        else:
            self._wait += 1
            if self._wait >= self.patience:
                self.stopped_epoch = epoch
                model.stop_training = True

    def on_train_end(self, model):
        if self.restore_best_weights and self._best_state is not None:
            model.import_state(self._best_state)


class ModelCheckpoint(Callback):
    """Save the model to ``directory`` every ``every`` epochs (or only when ``monitor`` improves).

    Saving is atomic: an interrupted save never replaces the previous good checkpoint.
    """

    def __init__(self, directory: str, every: int = 1, save_best_only: bool = False,
                 monitor: str = "test_loss"):
        if not isinstance(every, int) or every < 1:
            raise InputError(f"every must be an integer >= 1, got {every!r}")
        self.directory, self.every = os.fspath(directory), every
        self.save_best_only, self.monitor = save_best_only, monitor
        self.best = math.inf

    def on_epoch_end(self, model, epoch, logs):
        if self.save_best_only:
            value = logs.get(self.monitor, logs.get("train_loss"))
            if value is None or not value < self.best:
                return
            self.best = value
        elif (epoch + 1) % self.every:
            return
        model.save(self.directory)


class CSVLogger(Callback):
    """Append one row per epoch to a CSV file (header written when the file is new)."""

    def __init__(self, path: str):
        self.path = os.fspath(path)

    def on_epoch_end(self, model, epoch, logs):
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(logs))
            if new:
                writer.writeheader()
            writer.writerow(logs)
