"""The one learning loop (core/learner.py): real epochs, held-out evaluation, divergence,
Ctrl-C, learning-rate decay, optimizers by name and the input checks before learning."""
from __future__ import annotations

import re

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.optim import OPTIMIZERS
from accelbrainbase.data import ArrayIterator


# -- helpers -------------------------------------------------------------------------------------
class FixedBatches(ab.IteratableData):
    """Unshuffled batches of ``x`` yielded as ``Batch`` objects directly (no validation), so a
    test can put inf into batch ``bad_batch`` of learning pass ``bad_epoch`` (both 0-based)."""

    noiseable_data = None

    def __init__(self, x, batch_size=16, epochs=3, bad_epoch=None, bad_batch=None):
        self.x, self.batch_size, self.epochs = x, batch_size, epochs
        self.bad_epoch, self.bad_batch = bad_epoch, bad_batch
        self.passes = 0

    @property
    def sample_shape(self):
        return self.x.shape[1:]

    @property
    def has_labels(self):
        return False

    @property
    def has_test(self):
        return False

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def generate_learned_samples(self):
        epoch = self.passes
        self.passes += 1
        for index, start in enumerate(range(0, len(self.x), self.batch_size)):
            chunk = self.x[start:start + self.batch_size].copy()
            if epoch == self.bad_epoch and index == self.bad_batch:
                chunk[0, 0] = np.inf
            yield ab.Batch(chunk, chunk, None)

    def generate_inferenced_samples(self):
        return iter(())


class Hook(ab.Callback):
    """A callback built from keyword functions, e.g. ``Hook(on_batch_end=f)``."""

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            setattr(self, name, fn)


def _batch_hook(fn):
    """A callback whose on_batch_end is ``fn(model, epoch, batch, logs)``."""

    class BatchHook(ab.Callback):
        epoch = None

        def on_epoch_start(self, model, epoch):
            self.epoch = epoch

        def on_batch_end(self, model, batch, logs):
            fn(model, self.epoch, batch, logs)

    return BatchHook()


class StepSpy(ab.Callback):
    """Wraps ``model.learn_step``: ``before(model, epoch, batch, b)`` runs just before the update
    of each batch and ``after(...)`` just after it (independent of when the loop reads the logs)."""

    def __init__(self, model, monkeypatch, before=None, after=None):
        self.epoch, self.batch = None, 0
        original = model.learn_step

        def step(b):
            if before is not None:
                before(model, self.epoch, self.batch, b)
            logs = original(b)
            if after is not None:
                after(model, self.epoch, self.batch, b)
            self.batch += 1
            return logs

        monkeypatch.setattr(model, "learn_step", step)

    def on_epoch_start(self, model, epoch):
        self.epoch, self.batch = epoch, 0


def _poison(model):
    model.import_state({k: np.full_like(v, np.nan) for k, v in model.export_state().items()})


def _ae(backend, seed=0, **kwargs):
    ab.seed_everything(seed)
    return backend.AutoEncoder.dense([12, 6, 3], **kwargs)


def _assert_state_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _all_finite(state):
    return all(np.isfinite(v).all() for v in state.values())


def _native_lr(backend, model):
    if backend.__name__.endswith("torch"):
        return model._optimizer.param_groups[0]["lr"]
    return model._trainer.learning_rate


def _has_gpu(backend):
    if backend.__name__.endswith("torch"):
        import torch

        return torch.cuda.is_available()
    import mxnet

    return mxnet.context.num_gpus() > 0


# -- epochs ----------------------------------------------------------------------------------------
def test_every_sample_once_per_epoch_and_last_partial_batch_used(backend, tiny, monkeypatch):
    x, _ = tiny  # 60 samples, batch 16 -> 16, 16, 16, 12
    model = _ae(backend)
    seen, losses = {}, {}

    def record_batch(m, epoch, batch, b):
        seen.setdefault(epoch, []).append(np.array(b.clean, copy=True))

    spy = StepSpy(model, monkeypatch, before=record_batch)
    loss_hook = _batch_hook(lambda m, epoch, batch, logs: losses.setdefault(epoch, []).append(logs["loss"]))
    data = ArrayIterator(x, batch_size=16, epochs=3, seed=0)
    model.learn(data, callbacks=[spy, loss_hook], progress=False)

    assert sorted(seen) == [0, 1, 2]
    expected = sorted(row.tobytes() for row in x)
    orders = []
    for epoch in range(3):
        assert [len(b) for b in seen[epoch]] == [16, 16, 16, 12]
        rows = [row.tobytes() for b in seen[epoch] for row in b]
        assert sorted(rows) == expected  # each sample exactly once
        orders.append(rows)
    assert orders[0] != orders[1]  # shuffled anew each epoch
    history = model.history
    assert list(history["epoch"]) == [0, 1, 2]
    for epoch in range(3):  # train_loss is the per-sample mean of the batch losses
        assert len(losses[epoch]) == 4
        sizes = [len(b) for b in seen[epoch]]
        mean = sum(v * n for v, n in zip(losses[epoch], sizes)) / sum(sizes)
        assert history["train_loss"][epoch] == pytest.approx(mean, rel=1e-6)


def test_epochs_continue_across_learn_calls(backend, tiny):
    x, _ = tiny
    model = _ae(backend)
    model.learn(ArrayIterator(x, batch_size=16, epochs=2, seed=0), progress=False)
    assert list(model.history["epoch"]) == [0, 1]
    first_rows = model.history.copy()
    model.learn(ArrayIterator(x, batch_size=16, epochs=2, seed=1), progress=False)
    assert list(model.history["epoch"]) == [0, 1, 2, 3]
    assert model.history.iloc[:2].equals(first_rows)


def test_one_pass_over_the_data_per_epoch(backend, tiny):
    x, _ = tiny
    model = _ae(backend)
    data = FixedBatches(x, batch_size=25, epochs=4)  # 25, 25, 10
    model.learn(data, progress=False)
    assert data.passes == 4
    assert len(model.history) == 4


# -- held-out evaluation ---------------------------------------------------------------------------
def test_test_loss_each_epoch_equals_evaluate(backend, tiny):
    x, _ = tiny
    model = _ae(backend)
    data = ArrayIterator(x, test_size=0.25, batch_size=16, epochs=3, seed=0)
    model.learn(data, progress=False)
    history = model.history
    assert "test_loss" in history.columns
    assert np.isfinite(history["test_loss"]).all()
    assert history["test_loss"].iloc[-1] == pytest.approx(model.evaluate(data)["loss"], rel=1e-6)
    # evaluate is the mean over the held-out samples of the model's loss
    recon = model.inference(data.x_test)
    assert model.evaluate(data)["loss"] == pytest.approx(float(np.mean((recon - data.x_test) ** 2)), rel=1e-4)


def test_no_test_loss_without_held_out_data(backend, tiny):
    x, _ = tiny
    model = _ae(backend)
    data = ArrayIterator(x, batch_size=16, epochs=2, seed=0)
    model.learn(data, progress=False)
    assert "test_loss" not in model.history.columns
    assert "train_loss" in model.history.columns
    assert model.evaluate(data) == {}


def test_supervised_test_metrics(backend, tiny):
    x, y = tiny
    ab.seed_everything(0)
    model = backend.NeuralNetworks([12, 8, 3], loss="cross_entropy")
    data = ArrayIterator(x, y, test_size=0.25, batch_size=16, epochs=2, seed=0)
    model.learn(data, progress=False)
    columns = set(model.history.columns)
    assert {"train_loss", "train_accuracy", "test_loss", "test_accuracy"} <= columns
    expected = float(np.mean(model.inference(data.x_test).argmax(axis=1) == data.y_test))
    assert model.history["test_accuracy"].iloc[-1] == pytest.approx(expected, abs=1e-6)


# -- divergence --------------------------------------------------------------------------------------
def _assert_good_weights_after_divergence(model, err, before_batch, start_of_epoch):
    """The weights are finite and are what the message says: those before the failing batch
    ("kept") or those from the start of the epoch ("restored")."""
    state = model.export_state()
    assert _all_finite(state)
    message = str(err)
    if "kept" in message:
        _assert_state_equal(state, before_batch)
    else:
        assert "restored" in message
        _assert_state_equal(state, start_of_epoch)
    assert np.isfinite(model.inference(_X_PROBE)).all()


_X_PROBE = np.linspace(0, 1, 24, dtype=np.float32).reshape(2, 12)


def test_nan_loss_stops_with_divergence_error_and_keeps_good_weights(backend, tiny, monkeypatch):
    x, _ = tiny
    model = _ae(backend)
    data = FixedBatches(x, batch_size=16, epochs=4, bad_epoch=1, bad_batch=2)
    snapshots, before_bad = {}, {}

    def remember(m, epoch, batch, b):
        if not np.isfinite(b.inputs).all() and not before_bad:
            before_bad.update(m.export_state())

    spy = StepSpy(model, monkeypatch, before=remember)
    start = Hook(on_epoch_start=lambda m, e: snapshots.setdefault(e, m.export_state()))
    with pytest.raises(ab.DivergenceError) as info:
        model.learn(data, callbacks=[spy, start], progress=False)
    err = info.value
    assert "epoch 2, batch 3" in str(err)
    assert (err.epoch, err.batch) == (1, 2)  # 0-based, like the history's epoch column
    assert data.passes == 2  # stopped: no third epoch
    assert list(model.history["epoch"]) == [0]
    assert before_bad, "the poisoned batch was never learned"
    _assert_good_weights_after_divergence(model, err, before_bad, snapshots[1])


def test_non_finite_weights_are_restored_to_start_of_epoch(backend, tiny, monkeypatch):
    x, _ = tiny
    model = _ae(backend)
    data = FixedBatches(x, batch_size=16, epochs=4)
    snapshots = {}

    def corrupt(m, epoch, batch, b):
        if (epoch, batch) == (1, 1):  # the weights themselves become NaN before this batch
            _poison(m)

    spy = StepSpy(model, monkeypatch, before=corrupt)
    start = Hook(on_epoch_start=lambda m, e: snapshots.setdefault(e, m.export_state()))
    with pytest.raises(ab.DivergenceError, match="epoch 2, batch 2") as info:
        model.learn(data, callbacks=[spy, start], progress=False)
    assert "restored" in str(info.value)
    assert (info.value.epoch, info.value.batch) == (1, 1)
    state = model.export_state()
    assert _all_finite(state)
    _assert_state_equal(state, snapshots[1])
    assert np.isfinite(model.inference(x)).all()


def test_non_finite_weights_after_the_last_batch_are_caught(backend, tiny, monkeypatch):
    """Weights that turn non-finite while every loss stays finite (e.g. in the last batch of an
    epoch) are caught by the end-of-epoch check and the start-of-epoch weights come back."""
    x, _ = tiny
    model = _ae(backend)
    snapshots = {}

    def corrupt(m, epoch, batch, b):
        if (epoch, batch) == (0, 3):  # right after the update of the last batch of epoch 0
            _poison(m)

    spy = StepSpy(model, monkeypatch, after=corrupt)
    start = Hook(on_epoch_start=lambda m, e: snapshots.setdefault(e, m.export_state()))
    with pytest.raises(ab.DivergenceError, match="weights became NaN or infinite") as info:
        model.learn(FixedBatches(x, batch_size=16, epochs=2), callbacks=[spy, start], progress=False)
    assert "epoch 1, batch 4" in str(info.value) and "restored" in str(info.value)
    assert _all_finite(model.export_state())
    _assert_state_equal(model.export_state(), snapshots[0])
    assert len(model.history) == 0


def test_huge_learning_rate_diverges_cleanly(backend, tiny):
    x, _ = tiny
    model = _ae(backend, optimizer=ab.OptimizerSpec("sgd", learning_rate=1e30))
    with pytest.raises(ab.DivergenceError, match=r"epoch \d+, batch \d+"):
        model.learn(ArrayIterator(x, batch_size=4, epochs=5, seed=0), progress=False)
    assert _all_finite(model.export_state())


# -- Ctrl-C ---------------------------------------------------------------------------------------------
def test_keyboard_interrupt_keeps_learned_state(backend, tiny):
    x, _ = tiny
    model = _ae(backend)
    initial = model.export_state()

    def interrupt(m, epoch, batch, logs):
        if (epoch, batch) == (1, 1):
            raise KeyboardInterrupt

    ended = []
    data = ArrayIterator(x, batch_size=16, epochs=5, seed=0)
    with pytest.warns(RuntimeWarning, match="interrupted during epoch 2"):
        result = model.learn(data, callbacks=[_batch_hook(interrupt), Hook(on_train_end=ended.append)],
                             progress=False)
    assert result is model
    assert model.interrupted_ is True
    assert ended == [model]  # on_train_end still runs
    assert list(model.history["epoch"]) == [0]
    state = model.export_state()
    assert any(not np.array_equal(state[k], initial[k]) for k in initial)
    # a later learn() starts afresh and is not flagged
    model.learn(ArrayIterator(x, batch_size=16, epochs=1, seed=0), progress=False)
    assert model.interrupted_ is False
    assert list(model.history["epoch"]) == [0, 1]


# -- learning rates and optimizers ------------------------------------------------------------------
def test_step_decay_of_the_learning_rate(backend, tiny):
    spec = ab.OptimizerSpec("sgd", learning_rate=0.1, decay_rate=0.5, decay_every=2)
    assert [spec.learning_rate_at(e) for e in range(6)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    x, _ = tiny
    model = _ae(backend, optimizer=spec)
    seen = []
    model.learn(ArrayIterator(x, batch_size=16, epochs=3, seed=0),
                callbacks=[Hook(on_epoch_start=lambda m, e: seen.append(_native_lr(backend, m)))],
                progress=False)
    assert seen == pytest.approx([0.1, 0.1, 0.05])
    assert _native_lr(backend, model) == pytest.approx(0.05)
    model.learn(ArrayIterator(x, batch_size=16, epochs=2, seed=0), progress=False)  # epochs 3, 4
    assert _native_lr(backend, model) == pytest.approx(0.025)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_learns(backend, tiny, name):
    x, _ = tiny
    model = _ae(backend, optimizer=name)
    data = ArrayIterator(x, test_x=x, batch_size=8, epochs=5, seed=0)
    before = model.evaluate(data)["loss"]
    model.learn(data, progress=False)
    after = model.history["test_loss"].to_numpy()
    assert np.isfinite(after).all()
    assert after[-1] < before


# -- bad names and data ---------------------------------------------------------------------------
def test_unknown_optimizer_lists_valid_names(backend):
    with pytest.raises(ab.InputError, match="unknown optimizer 'adamw'") as info:
        backend.AutoEncoder.dense([12, 6, 3], optimizer="adamw")
    for name in OPTIMIZERS:
        assert name in str(info.value)


def test_unknown_loss(backend):
    with pytest.raises(ab.InputError, match=r"unknown loss 'hinge'.*mse"):
        backend.AutoEncoder.dense([12, 6, 3], loss="hinge")


def test_unknown_activation(backend):
    with pytest.raises(ab.InputError, match=r"unknown activation.*'swish'.*relu"):
        backend.NeuralNetworks([12, 8, 3], activation="swish")
    with pytest.raises(ab.InputError, match="unknown output_activation 'swish'"):
        backend.NeuralNetworks([12, 8, 3], output_activation="swish")


def test_unknown_device_lists_valid_names(backend):
    with pytest.raises(ab.InputError, match=re.escape("valid: 'cpu', 'cuda', 'cuda:N'")):
        backend.AutoEncoder.dense([12, 6, 3], device="tpu")


def test_cuda_without_gpu_is_an_input_error(backend):
    if _has_gpu(backend):
        pytest.skip("a GPU is present")
    with pytest.raises(ab.InputError, match="GPU"):
        backend.AutoEncoder.dense([12, 6, 3], device="cuda")


def test_supervised_model_needs_labelled_data(backend, tiny):
    x, _ = tiny
    model = backend.NeuralNetworks([12, 8, 3], loss="cross_entropy")
    with pytest.raises(ab.InputError, match="labelled"):
        model.learn(ArrayIterator(x, batch_size=16, epochs=1), progress=False)
    assert len(model.history) == 0


def test_learn_needs_an_iteratable_data(backend, tiny):
    model = _ae(backend)
    with pytest.raises(ab.InputError, match="IteratableData"):
        model.learn(tiny[0], progress=False)


def test_label_count_mismatch_is_an_error(tiny):
    x, y = tiny
    with pytest.raises(ab.ShapeError, match="59 samples but x has 60"):
        ArrayIterator(x, y[:-1])
    with pytest.raises(ab.ShapeError, match="test_y has 9 samples but test_x has 10"):
        ArrayIterator(x, y, test_x=x[:10], test_y=y[:9])
