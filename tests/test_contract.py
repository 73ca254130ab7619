"""Every registered model x backend gets every check: build, learn, shapes, save/load, seeding,
bad input. A new model gets this suite by registering itself."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.registry import models
from accelbrainbase.data import ArrayIterator
from conftest import registered_models

REPRESENTATION = registered_models("representation")


def build(backend, name, n_features=12, **kwargs):
    return models("representation", backend)[name].example(n_features, code_size=4, hidden=(8,), **kwargs)


def tiny_data(tiny, epochs=3, **kwargs):
    x, _ = tiny
    return ArrayIterator(x, test_size=0.25, batch_size=16, epochs=epochs, seed=0, **kwargs)


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_learns_and_has_the_right_shapes(backend, name, tiny):
    ab.seed_everything(0)
    model = build(backend, name)
    data = tiny_data(tiny, epochs=4)
    assert model.learn(data, progress=False) is model
    history = model.history
    assert list(history["epoch"]) == [0, 1, 2, 3]
    assert {"train_loss", "test_loss", "seconds"} <= set(history.columns)
    assert np.isfinite(history[["train_loss", "test_loss"]].to_numpy()).all()
    progress = history[f"train_{model.monitor}"]
    assert progress.iloc[-1] < progress.iloc[0]
    x = tiny[0][:7]
    assert model.inference(x).shape == (7, 12)
    assert model.extract_feature_points(x).shape == (7, 4)
    assert model.n_parameters > 0


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_save_load_round_trip(backend, name, tiny, tmp_path):
    ab.seed_everything(1)
    model = build(backend, name)
    model.learn(tiny_data(tiny, epochs=2), progress=False)
    model.save(tmp_path / "m")
    loaded = type(model).load(tmp_path / "m")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.inference(tiny[0]), model.inference(tiny[0]))
    assert loaded.get_config() == model.get_config()
    assert len(loaded.history) == 2
    generic = ab.load(tmp_path / "m")
    np.testing.assert_array_equal(generic.inference(tiny[0]), model.inference(tiny[0]))


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_same_seed_gives_identical_history(backend, name, tiny):
    def run():
        ab.seed_everything(7)
        model = build(backend, name)
        model.learn(tiny_data(tiny, epochs=3, noiseable_data=None), progress=False)
        return model.history.drop(columns="seconds"), model.inference(tiny[0])

    (h1, out1), (h2, out2) = run(), run()
    assert h1.equals(h2)
    np.testing.assert_array_equal(out1, out2)


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_bad_input_is_a_clear_error(backend, name, tiny):
    model = build(backend, name)
    x, _ = tiny
    with pytest.raises(ab.ShapeError, match="expected 12, got 10"):
        model.learn(ArrayIterator(x[:, :10], batch_size=8, epochs=1), progress=False)
    with pytest.raises(ab.ShapeError, match="expected 12, got 5"):
        model.inference(x[:, :5])
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ab.InputError, match="NaN"):
        model.inference(bad)
    with pytest.raises(ab.InputError, match="empty"):
        model.inference(np.zeros((0, 12), dtype=np.float32))
    with pytest.raises(ab.InputError, match="IteratableData"):
        model.learn(x)
    assert len(model.history) == 0  # nothing was learned by a rejected call
