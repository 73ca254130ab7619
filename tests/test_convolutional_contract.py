"""Contract checks for every model registered for ``classification`` (x backend): learns with
accuracy in the history, output shape (N, classes), save/load, seeding, bad input."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.registry import models
from accelbrainbase.data import ArrayIterator
from conftest import registered_models

CLASSIFICATION = registered_models("classification")


def build(backend, name):
    return models("classification", backend)[name].example(64, code_size=3)


def data():
    """60 flat 8x8 images in 3 classes told apart by the brightness of their thirds."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    x = rng.random((60, 8, 8)).astype(np.float32) * 0.5
    for k in range(3):
        x[y == k, :, 3 * k:3 * k + 2] += 0.5
    return x.reshape(60, 64), y


@pytest.mark.parametrize("backend,name", CLASSIFICATION)
def test_classifier_learns_and_has_the_right_shapes(backend, name):
    ab.seed_everything(0)
    model = build(backend, name)
    x, y = data()
    model.learn(ArrayIterator(x, y, test_size=0.25, batch_size=16, epochs=6, seed=0), progress=False)
    history = model.history
    assert {"train_loss", "test_loss", "train_accuracy", "test_accuracy"} <= set(history.columns)
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert model.inference(x[:7]).shape == (7, 3)
    with pytest.raises(ab.InputError, match="labelled"):
        model.learn(ArrayIterator(x, batch_size=16, epochs=1), progress=False)


@pytest.mark.parametrize("backend,name", CLASSIFICATION)
def test_classifier_save_load_and_seeding(backend, name, tmp_path):
    x, y = data()

    def run():
        ab.seed_everything(3)
        model = build(backend, name)
        model.learn(ArrayIterator(x, y, test_size=0.25, batch_size=16, epochs=2, seed=0), progress=False)
        return model

    first, second = run(), run()
    assert first.history.drop(columns="seconds").equals(second.history.drop(columns="seconds"))
    first.save(tmp_path / "c")
    loaded = ab.load(tmp_path / "c")
    assert loaded.get_config() == first.get_config()
    np.testing.assert_array_equal(loaded.inference(x), first.inference(x))
    with pytest.raises(ab.ShapeError, match="expected 64, got 60"):
        first.inference(x[:, :60])
