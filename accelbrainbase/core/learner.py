"""The one learning loop, written once for every model in every backend (template method).

A backend model supplies the steps: ``learn_step(batch)`` (one update; returns the batch's
loss and metrics, as floats or as backend scalars that ``resolve_logs`` reads one step later),
``test_step(batch)``, ``predict(x)`` on a NumPy chunk, ``export_state()`` / ``import_state()``
and ``set_learning_rate(lr)``. Everything else (epochs, held-out evaluation, history,
callbacks, NaN detection, Ctrl-C, input checks, persistence) lives here.
"""
from __future__ import annotations

import math
import time
from collections import deque
import warnings
from typing import Any, Dict, Iterable, Optional

import numpy as np

from accelbrainbase.core.callbacks import Callback, CallbackList, ProgressBar
from accelbrainbase.core.config import Configurable
from accelbrainbase.core.errors import DivergenceError, InputError, ShapeError
from accelbrainbase.core.history import History
from accelbrainbase.core.interfaces import (
    Batch, IteratableData, NoiseableData, ObservableData, RegularizatableData,
)
from accelbrainbase.core.validation import check_array


class Learner(Configurable, ObservableData):
    """Mixin giving ``learn``, ``evaluate``, ``inference``, ``save`` and ``load``."""

    #: whether batches must carry targets (supervised models)
    requires_targets: bool = False
    #: chunk size used by :meth:`inference`
    inference_batch_size: int = 2048
    #: the logged quantity that shows learning progress (history column ``train_<monitor>``)
    monitor: str = "loss"
    #: how many steps an asynchronous backend may run ahead of the loop reading its losses
    lagged_steps: int = 8
    #: whether the label -1 (an unlabelled sample) is allowed (semi-supervised models)
    accepts_unlabelled: bool = False

    # -- state kept outside the constructor's hyper-parameters ---------------------------------
    @property
    def history_(self) -> History:
        history = self.__dict__.get("_history")
        if history is None:
            history = History()
            self.__dict__["_history"] = history
        return history

    @property
    def history(self):
        """Per-epoch losses and metrics as a pandas DataFrame."""
        return self.history_.frame

    # -- the template method -------------------------------------------------------------------
    def learn(self, iteratable_data: IteratableData, *, callbacks: Iterable[Callback] = (),
              progress: bool = True) -> "Learner":
        """Learn for ``iteratable_data.epochs`` epochs; return ``self``.

        Raises :class:`DivergenceError` (naming epoch and batch) if the loss turns NaN/inf; the
        last good weights are kept. Ctrl-C stops after the current batch and keeps what was learned.
        """
        self.check_data(iteratable_data)
        self.before_learning(iteratable_data)
        callbacks = CallbackList(([ProgressBar()] if progress else []) + list(callbacks))
        n_batches = _safe_len(iteratable_data)
        first = self.history_.next_epoch
        self.stop_training = False
        self.interrupted_ = False
        callbacks.on_train_start(self, iteratable_data.epochs, n_batches)
        snapshot = self.export_state()  # weights known to be good
        try:
            for epoch in range(first, first + iteratable_data.epochs):
                snapshot = self._run_epoch(iteratable_data, epoch, callbacks, snapshot)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            self.interrupted_ = True
            warnings.warn(f"learning interrupted during epoch {self.history_.next_epoch + 1}; "
                          "the learned state is kept", RuntimeWarning, stacklevel=2)
        finally:
            callbacks.on_train_end(self)
        return self

    def _run_epoch(self, data: IteratableData, epoch: int, callbacks: CallbackList,
                   snapshot: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """One epoch; returns the end-of-epoch weights, checked finite (the next snapshot).

        A step returns floats when it has read its loss and skipped the update on a non-finite
        one (torch), or backend scalars when it has not synchronised (mxnet's asynchronous
        engine): those are read up to ``lagged_steps`` steps later, so the engine can run ahead,
        and a non-finite loss among them means its update was applied, so the start-of-epoch
        weights are restored.
        """
        self.schedule_learning_rates(epoch)
        callbacks.on_epoch_start(self, epoch)
        start = time.perf_counter()
        sums: Dict[str, float] = {}
        counts: Dict[str, int] = {}
        index, pending = -1, deque()
        for index, batch in enumerate(data.generate_learned_samples()):
            batch = self.prepare_batch(batch)
            logs = self.learn_step(batch)
            pending.append((index, len(batch.clean), logs))
            lag = 0 if all(type(v) is float for v in logs.values()) else self.lagged_steps
            while len(pending) > lag:
                self._settle(epoch, *pending.popleft(), sums, counts, snapshot, callbacks)
        while pending:
            self._settle(epoch, *pending.popleft(), sums, counts, snapshot, callbacks)
        state = self.export_state()
        if not _finite(state):
            self._diverged(epoch, index, "the weights became NaN or infinite (the losses were finite)",
                           snapshot, restore=True)
        row = {"epoch": epoch}
        row.update({f"train_{k}": v / counts[k] for k, v in sums.items()})
        row.update({f"test_{k}": v for k, v in self.evaluate(data).items()})
        row["seconds"] = time.perf_counter() - start
        self.history_.append(row)
        callbacks.on_epoch_end(self, epoch, row)
        return state

    def _settle(self, epoch, index, n, raw_logs, sums, counts, snapshot, callbacks) -> None:
        """Read one step's logs; add them, weighted by the batch size, to the epoch's sums (a
        quantity logged by only some steps, e.g. a GAN's generator loss, is averaged over those)."""
        logs = self.resolve_logs(raw_logs)
        for key, value in logs.items():
            if not math.isfinite(value):
                guarded = raw_logs is not None and all(type(v) is float for v in raw_logs.values())
                self._diverged(epoch, index, f"{key} became {value}", snapshot, restore=not guarded)
            sums[key] = sums.get(key, 0.0) + value * n
            counts[key] = counts.get(key, 0) + n
        callbacks.on_batch_end(self, index, logs)

    def resolve_logs(self, raw_logs: Dict[str, Any]) -> Dict[str, float]:
        """Turn a step's logs (floats or backend scalars) into floats."""
        return {key: float(value) for key, value in raw_logs.items()}

    def _diverged(self, epoch: int, index: int, what: str, snapshot: Dict[str, np.ndarray],
                  restore: bool):
        if restore or not _finite(self.export_state()):
            self.import_state(snapshot)
            kept = "the weights from the start of this epoch were restored"
        else:
            kept = "the weights before this batch were kept"
        raise DivergenceError(
            f"{what} at epoch {epoch + 1}, batch {index + 1}; learning stopped and "
            f"{kept}. Try a smaller learning rate or check the data scale.", epoch, index)

    def evaluate(self, iteratable_data: IteratableData) -> Dict[str, float]:
        """Mean loss and metrics over the held-out batches (empty dict when there are none)."""
        sums: Dict[str, float] = {}
        count = 0
        for batch in iteratable_data.generate_inferenced_samples():
            batch = self.prepare_batch(batch)
            n = len(batch.clean)
            for key, value in self.test_step(batch).items():
                sums[key] = sums.get(key, 0.0) + value * n
            count += n
        return {k: v / count for k, v in sums.items()} if count else {}

    # -- shared set-up and conversion used by both backends' bases ----------------------------
    def _store_learning_settings(self, loss: Any, optimizer: Any, regularizers: Iterable[Any],
                                 device: str, losses_module: Any, is_native_optimizer,
                                 native_description: str) -> None:
        """Validate and store loss, optimizer, regularizers and device (the backend then builds)."""
        from accelbrainbase.core.losses import resolve_loss
        from accelbrainbase.core.optim import as_optimizer_spec

        self.loss = loss
        self.loss_fn = resolve_loss(loss, losses_module)
        self.optimizer = optimizer
        self.optimizer_spec = as_optimizer_spec(optimizer)
        if self.optimizer_spec is None and not is_native_optimizer(optimizer):
            raise InputError(f"optimizer must be a name, an OptimizerSpec or {native_description}, "
                             f"got {optimizer!r}")
        self.regularizers = list(regularizers)
        for reg in self.regularizers:
            if not isinstance(reg, RegularizatableData):
                raise InputError(f"regularizers must be RegularizatableData (e.g. MaxNorm), got {reg!r}")
        self.device = device

    def _batch(self, batch: Batch) -> Batch:
        """A NumPy batch as backend tensors (``clean`` shares ``inputs`` when there is no noise)."""
        inputs = self._tensor(batch.inputs)
        clean = inputs if batch.clean is batch.inputs else self._tensor(batch.clean)
        targets = None if batch.targets is None else self._tensor(batch.targets)
        return Batch(inputs, clean, targets)

    def apply_regularizers(self) -> None:
        """Constrain the weights after an update: each regularizer sees every weight with the
        axis that holds its units (the backend's ``_weight_parameters``)."""
        if self.regularizers:
            weights = self._weight_parameters()
            for regularizer in self.regularizers:
                regularizer.regularize(weights)

    def _step_batch(self, batch: Batch) -> Batch:
        """The batch a held-out step works on: backend tensors (composites take NumPy batches
        and convert what each part needs themselves)."""
        return self._batch(batch)

    def _matching_state(self, own: Dict[str, Any], state: Dict[str, np.ndarray]) -> None:
        """Raise unless ``state`` has exactly the names and shapes of ``own``."""
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise InputError(f"state does not match {type(self).__name__}: missing {missing}, "
                             f"unexpected {unexpected}")
        for name, value in own.items():
            if tuple(np.shape(state[name])) != tuple(value.shape):
                raise ShapeError(f"state {name!r} has shape {np.shape(state[name])}, "
                                 f"expected {tuple(value.shape)}")

    # -- hooks a model may override -------------------------------------------------------------
    def test_batch_loss(self, batch: Batch):
        """The loss and metrics of a held-out batch (by default the training objective)."""
        return self.batch_loss(batch)

    def test_logs(self, batch: Batch) -> Dict[str, Any]:
        """What a held-out batch logs, as backend scalars: ``loss`` and the metrics (composites
        log one loss per part instead)."""
        loss, metrics = self.test_batch_loss(batch)
        return {"loss": loss, **metrics}

    def before_learning(self, iteratable_data: IteratableData) -> None:
        """Called once per ``learn`` after the data checks (e.g. greedy pre-training)."""

    def prepare_batch(self, batch: Batch) -> Batch:
        """Apply the model's own noise (denoising models) to the inputs; targets stay clean."""
        noise: Optional[NoiseableData] = getattr(self, "noise", None)
        if noise is None:
            return batch
        return Batch(noise.noise(batch.clean), batch.clean, batch.targets)

    def learning_rate_at(self, epoch: int) -> Optional[float]:
        spec = getattr(self, "optimizer_spec", None)
        return None if spec is None else spec.learning_rate_at(epoch)

    def schedule_learning_rates(self, epoch: int) -> None:
        """Set the scheduled learning rate of ``epoch`` (composites set one per part)."""
        rate = self.learning_rate_at(epoch)
        if rate is not None:
            self.set_learning_rate(rate)

    # -- input checks ----------------------------------------------------------------------------
    def check_data(self, data: IteratableData) -> None:
        if not isinstance(data, IteratableData):
            raise InputError(f"learn() needs an IteratableData (e.g. ArrayIterator), got {type(data).__name__}")
        if tuple(data.sample_shape) != tuple(self.input_shape):
            raise ShapeError(self._shape_message(tuple(data.sample_shape)))
        if self.requires_targets and not data.has_labels:
            raise InputError(f"{type(self).__name__} learns from labelled data, but the iterator has no labels")
        if getattr(self, "noise", None) is not None and data.noiseable_data is not None:
            raise InputError(f"{type(self).__name__} adds its own noise; the iterator must not add noise too")
        if getattr(getattr(self, "loss_fn", None), "class_labels", False):
            for what in ("y_train", "y_test"):
                self.check_class_labels(what, getattr(data, what, None))

    def check_class_labels(self, what: str, labels: Any) -> None:
        """Raise unless ``labels`` are class indices 0..K-1 (K = ``output_width``), or -1 for an
        unlabelled sample in models with ``accepts_unlabelled`` (semi-supervised ones). Without
        this a label of -1 or K would silently pick another class in mxnet (``pick`` clips)."""
        if labels is None or np.size(labels) == 0 or np.ndim(labels) != 1:
            return
        labels = np.asarray(labels)
        name = type(self).__name__
        low = -1 if self.accepts_unlabelled else 0
        smallest = labels.min()
        if smallest < low:
            if smallest == -1:
                raise InputError(f"{name} got the label -1 (an unlabelled sample) in {what}; only "
                                 "semi-supervised models (e.g. LadderNetworks) accept -1. Expected class "
                                 "labels >= 0")
            raise InputError(f"{name} needs class labels >= {low} in {what}, got {smallest}")
        width = getattr(self, "output_width", None)
        if width is not None and labels.max() >= width:
            raise InputError(f"{name} has {width} outputs, so the labels in {what} must be < {width}, "
                             f"got {labels.max()}")

    def check_samples(self, what: str, arr: Any) -> np.ndarray:
        arr = check_array(what, arr, ndim=len(self.input_shape) + 1)
        if arr.shape[1:] != tuple(self.input_shape):
            raise ShapeError(self._shape_message(arr.shape[1:]))
        return arr

    def _shape_message(self, got: tuple) -> str:
        expected = self.input_shape
        if len(expected) == 1 and len(got) == 1:
            return (f"{type(self).__name__} has the wrong number of input features: "
                    f"expected {expected[0]}, got {got[0]}")
        return f"{type(self).__name__} expects samples of shape {expected}, got {got}"

    # -- inference ---------------------------------------------------------------------------------
    def inference(self, observed_arr: np.ndarray) -> np.ndarray:
        """The model's output for ``observed_arr`` (N, *input_shape), as a NumPy array."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(self.predict, x)

    def _chunked(self, fn, x: np.ndarray) -> np.ndarray:
        size = self.inference_batch_size
        return np.concatenate([fn(x[i:i + size]) for i in range(0, len(x), size)], axis=0)

    # -- persistence -------------------------------------------------------------------------------
    def save(self, directory: str) -> str:
        """Write config, weights and history to ``directory`` atomically (no pickle)."""
        from accelbrainbase.core.persistence import save_model

        return save_model(self, directory)

    @classmethod
    def load(cls, directory: str, device: str | None = None) -> "Learner":
        """Rebuild a model saved with :meth:`save` (in this class's backend)."""
        from accelbrainbase.core.persistence import load_model

        backend = cls.__module__.split(".")[1]
        model = load_model(directory, backend=backend, device=device)
        if not isinstance(model, cls):
            raise InputError(f"{directory!r} holds a {type(model).__name__}, not a {cls.__name__}")
        return model


class SupervisedLearner(Learner):
    """A model whose loss compares its outputs ``self(inputs)`` with the batch's targets
    (``loss_fn.compute``), with the loss's metrics (accuracy for cross-entropy) in the history."""

    requires_targets = True

    def batch_loss(self, batch: Batch):
        pred = self(batch.inputs)
        return self.loss_fn.compute(pred, batch.targets), self.loss_fn.metrics(pred, batch.targets)


def _finite(state: Dict[str, np.ndarray]) -> bool:
    return all(np.isfinite(v).all() for v in state.values())


def _safe_len(data: Any) -> Optional[int]:
    try:
        return len(data)
    except TypeError:
        return None
