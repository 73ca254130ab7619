"""Callbacks of the learning loop (core/callbacks.py) and atomic checkpoints (core/persistence.py)."""
from __future__ import annotations

import csv
import io
import json
import os
import sys

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.data import ArrayIterator


class Recorder(ab.Callback):
    """Records every hook call and the weights after each epoch."""

    def __init__(self):
        self.calls = []
        self.states = {}

    def on_train_start(self, model, epochs, batches_per_epoch):
        self.calls.append(("train_start", epochs, batches_per_epoch))

    def on_epoch_start(self, model, epoch):
        self.calls.append(("epoch_start", epoch))

    def on_batch_end(self, model, batch, logs):
        assert np.isfinite(logs["loss"])
        self.calls.append(("batch_end", batch))

    def on_epoch_end(self, model, epoch, logs):
        self.calls.append(("epoch_end", epoch))
        self.states[epoch] = model.export_state()

    def on_train_end(self, model):
        self.calls.append(("train_end",))


class AtEpochEnd(ab.Callback):
    def __init__(self, fn):
        self.fn = fn

    def on_epoch_end(self, model, epoch, logs):
        self.fn(model, epoch, logs)


def _ae(backend, seed=0):
    ab.seed_everything(seed)
    return backend.AutoEncoder.dense([12, 6, 3])


def _data(tiny, epochs=3, **kwargs):
    x, _ = tiny
    kwargs.setdefault("test_size", 0.25)
    return ArrayIterator(x, batch_size=16, epochs=epochs, seed=0, **kwargs)


def _assert_state_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _states_differ(a, b):
    return any(not np.array_equal(a[k], b[k]) for k in a)


# -- hooks ---------------------------------------------------------------------------------------------
def test_hooks_are_called_in_order(backend, tiny):
    model = _ae(backend)
    recorder = Recorder()
    data = _data(tiny, epochs=2)  # 45 training samples -> 3 batches
    model.learn(data, callbacks=[recorder], progress=False)
    batches = [("batch_end", 0), ("batch_end", 1), ("batch_end", 2)]
    assert recorder.calls == (
        [("train_start", 2, 3)]
        + [("epoch_start", 0)] + batches + [("epoch_end", 0)]
        + [("epoch_start", 1)] + batches + [("epoch_end", 1)]
        + [("train_end",)]
    )


def test_epoch_end_logs_are_the_history_row(backend, tiny):
    model = _ae(backend)
    rows = []
    model.learn(_data(tiny, epochs=2), callbacks=[AtEpochEnd(lambda m, e, logs: rows.append(dict(logs)))],
                progress=False)
    assert rows == model.history_.rows
    assert set(rows[0]) == {"epoch", "train_loss", "test_loss", "seconds"}


def test_callbacks_must_be_callback_instances(backend, tiny):
    model = _ae(backend)
    with pytest.raises(ab.InputError, match="Callback instances"):
        model.learn(_data(tiny), callbacks=[lambda *a: None], progress=False)


# -- EarlyStopping -------------------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_and_restores_best(backend, tiny):
    model = _ae(backend)
    recorder = Recorder()
    # learning lowers train_loss, so in "max" mode no epoch after the first is an improvement
    stopper = ab.EarlyStopping(monitor="train_loss", mode="max", patience=2, restore_best_weights=True)
    model.learn(_data(tiny, epochs=10), callbacks=[recorder, stopper], progress=False)
    history = model.history
    assert list(history["epoch"]) == [0, 1, 2]  # 1 + patience epochs
    assert history["train_loss"].is_monotonic_decreasing
    assert stopper.best_epoch == 0
    assert stopper.stopped_epoch == 2
    assert model.stop_training is True
    final = model.export_state()
    _assert_state_equal(final, recorder.states[0])
    assert _states_differ(final, recorder.states[2])


def test_early_stopping_without_restore_keeps_last_weights(backend, tiny):
    model = _ae(backend)
    recorder = Recorder()
    stopper = ab.EarlyStopping(monitor="train_loss", mode="max", patience=3, restore_best_weights=False)
    model.learn(_data(tiny, epochs=10), callbacks=[recorder, stopper], progress=False)
    assert len(model.history) == 4
    assert stopper.stopped_epoch == 3
    _assert_state_equal(model.export_state(), recorder.states[3])


def test_early_stopping_runs_all_epochs_while_improving(backend, tiny):
    model = _ae(backend)
    stopper = ab.EarlyStopping(monitor="train_loss", patience=1)
    model.learn(_data(tiny, epochs=4), callbacks=[stopper], progress=False)
    assert model.history["train_loss"].is_monotonic_decreasing
    assert len(model.history) == 4
    assert stopper.stopped_epoch is None
    assert stopper.best_epoch == 3


def test_early_stopping_unknown_monitor_lists_keys(backend, tiny):
    model = _ae(backend)
    stopper = ab.EarlyStopping(monitor="val_loss")
    with pytest.raises(ab.InputError, match="'val_loss'") as info:
        model.learn(_data(tiny), callbacks=[stopper], progress=False)
    assert "available: epoch, seconds, test_loss, train_loss" in str(info.value)


def test_early_stopping_bad_arguments():
    with pytest.raises(ab.InputError, match="mode"):
        ab.EarlyStopping(mode="maximum")
    with pytest.raises(ab.InputError, match="patience"):
        ab.EarlyStopping(patience=0)


# -- ModelCheckpoint -----------------------------------------------------------------------------------
def test_checkpoint_each_epoch_loads_to_the_same_model(backend, tiny, tmp_path):
    x, _ = tiny
    model = _ae(backend)
    directory = tmp_path / "ckpt"
    checked = []

    def reload(m, epoch, logs):
        loaded = ab.load(directory)
        assert type(loaded) is type(m)
        np.testing.assert_array_equal(loaded.inference(x), m.inference(x))
        assert len(loaded.history) == epoch + 1
        checked.append(epoch)

    model.learn(_data(tiny, epochs=3), callbacks=[ab.ModelCheckpoint(directory), AtEpochEnd(reload)],
                progress=False)
    assert checked == [0, 1, 2]
    # old weight files are cleaned up; no partial files are left
    names = sorted(os.listdir(directory))
    assert len([n for n in names if n.startswith("weights-")]) == 1
    assert not [n for n in names if n.endswith(".partial")]


def _manifest_weights(directory):
    path = os.path.join(directory, "model.json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)["weights"]


def test_checkpoint_every_n_epochs(backend, tiny, tmp_path):
    model = _ae(backend)
    directory = str(tmp_path / "ckpt")
    saved = []
    model.learn(_data(tiny, epochs=5),
                callbacks=[ab.ModelCheckpoint(directory, every=2),
                           AtEpochEnd(lambda m, e, logs: saved.append(_manifest_weights(directory)))],
                progress=False)
    assert saved[0] is None
    assert saved[1] is not None and saved[2] == saved[1]
    assert saved[3] != saved[2] and saved[4] == saved[3]
    assert len(ab.load(directory).history) == 4


def test_checkpoint_save_best_only_saves_on_improvement(backend, tiny, tmp_path):
    model = _ae(backend)
    directory = str(tmp_path / "ckpt")
    saved = []
    model.learn(_data(tiny, epochs=4),
                callbacks=[ab.ModelCheckpoint(directory, save_best_only=True),
                           AtEpochEnd(lambda m, e, logs: saved.append(_manifest_weights(directory)))],
                progress=False)
    losses = model.history["test_loss"].to_numpy()
    for epoch in range(1, 4):
        improved = losses[epoch] < losses[:epoch].min()
        assert (saved[epoch] != saved[epoch - 1]) == improved
    assert saved[0] is not None


def test_checkpoint_save_best_only_skips_epochs_without_improvement(backend, tiny, tmp_path):
    x, _ = tiny
    model = _ae(backend)
    directory = str(tmp_path / "ckpt")
    first = {}

    def remember(m, epoch, logs):
        if epoch == 0:
            first["out"] = m.inference(x)

    # "epoch" only grows, so only epoch 0 is ever the best
    model.learn(_data(tiny, epochs=3),
                callbacks=[ab.ModelCheckpoint(directory, save_best_only=True, monitor="epoch"),
                           AtEpochEnd(remember)],
                progress=False)
    loaded = ab.load(directory)
    assert len(loaded.history) == 1
    np.testing.assert_array_equal(loaded.inference(x), first["out"])
    assert not np.array_equal(model.inference(x), first["out"])


def test_checkpoint_bad_every():
    with pytest.raises(ab.InputError, match="every"):
        ab.ModelCheckpoint("somewhere", every=0)


# -- atomic saving -------------------------------------------------------------------------------------
def test_interrupted_weights_write_keeps_previous_checkpoint(backend, tiny, tmp_path, monkeypatch):
    import safetensors.numpy

    x, _ = tiny
    directory = str(tmp_path / "ckpt")
    model = _ae(backend)
    model.learn(_data(tiny, epochs=1), progress=False)
    model.save(directory)
    expected = model.inference(x)
    old_weights = _manifest_weights(directory)

    model.learn(_data(tiny, epochs=2), progress=False)
    assert not np.array_equal(model.inference(x), expected)

    def half_write(state, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"\x00" * 37)
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.numpy, "save_file", half_write)
    with pytest.raises(OSError, match="disk full"):
        model.save(directory)
    monkeypatch.undo()

    assert _manifest_weights(directory) == old_weights
    loaded = ab.load(directory)
    np.testing.assert_array_equal(loaded.inference(x), expected)
    assert len(loaded.history) == 1
    # a later good save replaces it and removes the leftovers
    model.save(directory)
    np.testing.assert_array_equal(ab.load(directory).inference(x), model.inference(x))
    assert not [n for n in os.listdir(directory) if n.endswith(".partial")]


def test_interrupted_manifest_write_keeps_previous_checkpoint(backend, tiny, tmp_path, monkeypatch):
    x, _ = tiny
    directory = str(tmp_path / "ckpt")
    model = _ae(backend)
    model.learn(_data(tiny, epochs=1), progress=False)
    model.save(directory)
    expected = model.inference(x)
    model.learn(_data(tiny, epochs=2), progress=False)

    real_replace = os.replace
    replaced = []

    def failing_replace(src, dst, *args, **kwargs):
        if os.path.basename(dst) == "model.json":
            raise KeyboardInterrupt  # interrupted at the commit point
        replaced.append(dst)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(KeyboardInterrupt):
        model.save(directory)
    monkeypatch.undo()

    assert len(replaced) == 1 and os.path.basename(replaced[0]).startswith("weights-")  # new weights written
    loaded = ab.load(directory)
    np.testing.assert_array_equal(loaded.inference(x), expected)
    assert len(loaded.history) == 1


# -- CSVLogger -----------------------------------------------------------------------------------------
def test_csv_logger_writes_header_and_one_row_per_epoch(backend, tiny, tmp_path):
    model = _ae(backend)
    path = tmp_path / "log.csv"
    logger = ab.CSVLogger(path)
    model.learn(_data(tiny, epochs=3), callbacks=[logger], progress=False)
    with open(path, newline="") as handle:
        lines = handle.read().splitlines()
    assert lines[0] == "epoch,train_loss,test_loss,seconds"
    assert len(lines) == 4
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    history = model.history
    for i, row in enumerate(rows):
        assert int(row["epoch"]) == history["epoch"][i]
        for key in ("train_loss", "test_loss", "seconds"):
            assert float(row[key]) == pytest.approx(history[key][i], rel=1e-12)
    # a second learn() appends without a second header
    model.learn(_data(tiny, epochs=1), callbacks=[logger], progress=False)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]


# -- ProgressBar ---------------------------------------------------------------------------------------
def test_progress_bar_is_on_by_default(backend, tiny, capfd):
    model = _ae(backend)
    capfd.readouterr()
    model.learn(_data(tiny, epochs=2))
    err = capfd.readouterr().err
    assert "AutoEncoder" in err
    assert "batch" in err


def test_no_progress_bar_with_progress_false(backend, tiny, capfd):
    model = _ae(backend)
    capfd.readouterr()
    model.learn(_data(tiny, epochs=2), progress=False)
    captured = capfd.readouterr()
    assert "AutoEncoder" not in captured.err
    assert "batch" not in captured.err
    assert "it/s" not in captured.err


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_counts_all_batches(backend, tiny):
    model = _ae(backend)
    bar = ab.ProgressBar(description="mine", file=_Terminal())
    seen = {}

    class Peek(ab.Callback):
        def on_epoch_end(self, m, epoch, logs):
            seen[epoch] = (bar._bar.total, bar._bar.n)

    model.learn(_data(tiny, epochs=2), callbacks=[bar, Peek()], progress=False)
    assert seen == {0: (6, 3), 1: (6, 6)}
    assert bar._bar is None  # closed at the end


def test_progress_goes_one_line_per_epoch_to_a_non_terminal(backend, tiny, monkeypatch):
    """A log file or CI (standard error not a terminal) gets one plain line per epoch, no
    carriage-return redraws; a terminal gets the tqdm bar."""
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    model = _ae(backend)
    model.learn(_data(tiny, epochs=3))  # the default ProgressBar
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 3, text
    for epoch, line in enumerate(lines, 1):
        assert line.startswith(f"AutoEncoder epoch {epoch}/3 (3 batches, ")
        assert "train_loss " in line and "test_loss " in line
    terminal = _Terminal()
    model.learn(_data(tiny, epochs=2), callbacks=[ab.ProgressBar(description="mine", file=terminal)], progress=False)
    assert "\r" in terminal.getvalue() and "mine" in terminal.getvalue()
    assert log.getvalue() == text  # the explicit stream was used, not standard error
