"""Every model registered for ``generation`` x backend gets every check: builds from its example,
learns through the one loop (finite per-epoch losses), generates samples of the data's shape
(by label where it is conditional), saves and loads with all its parts, and the same seed gives
the same history."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.registry import models
from accelbrainbase.data import ArrayIterator
from conftest import registered_models

GENERATION = registered_models("generation")


def build(backend, name):
    cls = models("generation", backend)[name]
    extra = {"n_classes": 3} if getattr(cls, "conditional_example", False) else {}
    return cls.example(12, code_size=4, hidden=(8,), **extra)


def data(model, tiny, epochs=2):
    x, y = tiny
    labelled = getattr(model, "conditional", False)
    return ArrayIterator(x, y if labelled else None, test_size=0.25, batch_size=16, epochs=epochs, seed=0)


def probe(model, tiny):
    """Inputs whose ``inference`` output depends only on the weights: the generator's inputs for
    GANs, samples for auto-encoders."""
    generator = getattr(model, "generator", None)
    return generator.draw_inputs(5)[0] if generator is not None else tiny[0][:5]


@pytest.mark.parametrize("backend,name", GENERATION)
def test_learns_and_generates(backend, name, tiny):
    ab.seed_everything(0)
    model = build(backend, name)
    assert model.learn(data(model, tiny), progress=False) is model
    history = model.history
    assert list(history["epoch"]) == [0, 1]
    numbers = history.drop(columns=["epoch", "seconds"])
    assert len(numbers.columns) >= 2 and np.isfinite(numbers.to_numpy()).all()
    assert any(c.startswith("test_") for c in numbers.columns)
    labels = np.array([0, 1, 2, 0, 1, 2]) if getattr(model, "conditional", False) else None
    samples = model.generate(6, labels=labels)
    assert samples.shape == (6, 12) and np.isfinite(samples).all()
    latent = model.draw_latent(3, labels=None if labels is None else labels[:3])
    decoded = model.decode(latent)
    assert decoded.shape == (3, 12)
    np.testing.assert_array_equal(model.decode(latent), decoded)  # the same latent inputs, the same samples
    with pytest.raises(ab.ShapeError):
        model.decode(latent[:, :-1])
    assert model.n_parameters > 0
    if not getattr(model, "conditional", False):
        with pytest.raises(ab.InputError, match="labels"):
            model.generate(2, labels=[0, 1])


@pytest.mark.parametrize("backend,name", GENERATION)
def test_save_load_round_trip_with_every_part(backend, name, tiny, tmp_path):
    ab.seed_everything(1)
    model = build(backend, name)
    model.learn(data(model, tiny, epochs=1), progress=False)
    model.save(tmp_path / "m")
    loaded = ab.load(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    state, again = model.export_state(), loaded.export_state()
    assert set(state) == set(again)
    for key in state:
        np.testing.assert_array_equal(state[key], again[key])
    x = probe(model, tiny)
    np.testing.assert_allclose(loaded.inference(x), model.inference(x), rtol=1e-6)
    assert len(loaded.history) == 1


@pytest.mark.parametrize("backend,name", GENERATION)
def test_same_seed_gives_identical_history(backend, name, tiny):
    def run():
        ab.seed_everything(7)
        model = build(backend, name)
        model.learn(data(model, tiny), progress=False)
        return model.history.drop(columns="seconds"), model.generate(4, labels=[0, 1, 2, 0] if getattr(
            model, "conditional", False) else None)

    (h1, s1), (h2, s2) = run(), run()
    assert h1.equals(h2)
    np.testing.assert_array_equal(s1, s2)
