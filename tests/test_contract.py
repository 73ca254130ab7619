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
ANOMALY = registered_models("anomaly-detection")


def build(backend, name, n_features=12, setting="representation", **kwargs):
    return models(setting, backend)[name].example(n_features, code_size=4, hidden=(8,), **kwargs)


def samples(backend, name, tiny, setting="representation"):
    """The model's own example data (a classmethod ``example_data(rng)``, e.g. sequences
    (60, 6, 12)), or the flat ``tiny`` data (60, 12); 12 features either way."""
    hook = getattr(models(setting, backend)[name], "example_data", None)
    return tiny[0] if hook is None else hook(np.random.default_rng(0))


def tiny_data(x, epochs=3, **kwargs):
    return ArrayIterator(x, test_size=0.25, batch_size=16, epochs=epochs, seed=0, **kwargs)


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_learns_and_has_the_right_shapes(backend, name, tiny):
    ab.seed_everything(0)
    model = build(backend, name)
    x = samples(backend, name, tiny)
    data = tiny_data(x, epochs=4)
    assert model.learn(data, progress=False) is model
    history = model.history
    assert list(history["epoch"]) == [0, 1, 2, 3]
    assert {"train_loss", "test_loss", "seconds"} <= set(history.columns)
    assert np.isfinite(history[["train_loss", "test_loss"]].to_numpy()).all()
    progress = history[f"train_{model.monitor}"]
    assert progress.iloc[-1] < progress.iloc[0]
    x = x[:7]
    assert model.inference(x).shape == x.shape and x.shape[-1] == 12
    assert model.extract_feature_points(x).shape == (7, 4)
    assert model.n_parameters > 0


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_save_load_round_trip(backend, name, tiny, tmp_path):
    ab.seed_everything(1)
    model = build(backend, name)
    x = samples(backend, name, tiny)
    model.learn(tiny_data(x, epochs=2), progress=False)
    model.save(tmp_path / "m")
    loaded = type(model).load(tmp_path / "m")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.inference(x), model.inference(x))
    assert loaded.get_config() == model.get_config()
    assert len(loaded.history) == 2
    generic = ab.load(tmp_path / "m")
    np.testing.assert_array_equal(generic.inference(x), model.inference(x))


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_same_seed_gives_identical_history(backend, name, tiny):
    def run():
        ab.seed_everything(7)
        model = build(backend, name)
        x = samples(backend, name, tiny)
        model.learn(tiny_data(x, epochs=3, noiseable_data=None), progress=False)
        return model.history.drop(columns="seconds"), model.inference(x)

    (h1, out1), (h2, out2) = run(), run()
    assert h1.equals(h2)
    np.testing.assert_array_equal(out1, out2)


@pytest.mark.parametrize("backend,name", REPRESENTATION)
def test_bad_input_is_a_clear_error(backend, name, tiny):
    model = build(backend, name)
    x = samples(backend, name, tiny)
    with pytest.raises(ab.ShapeError, match="expected 12, got 10"):
        model.learn(ArrayIterator(x[..., :10], batch_size=8, epochs=1), progress=False)
    with pytest.raises(ab.ShapeError, match="expected 12, got 5"):
        model.inference(x[..., :5])
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ab.InputError, match="NaN"):
        model.inference(bad)
    with pytest.raises(ab.InputError, match="empty"):
        model.inference(np.zeros((0,) + x.shape[1:], dtype=np.float32))
    with pytest.raises(ab.InputError, match="IteratableData"):
        model.learn(x)
    assert len(model.history) == 0  # nothing was learned by a rejected call


# -- anomaly detectors: fit(normal, validation, labels), score, predict --------------------------
def anomaly_data(backend, name, tiny):
    """Normal example windows and a labelled validation set: half of it shifted by +1 at one step."""
    x = samples(backend, name, tiny, "anomaly-detection")
    normal, validation = x[:40], x[40:].copy()
    labels = np.zeros(len(validation), dtype=np.int64)
    labels[::2] = 1
    validation[labels == 1, 2] += 1.0
    return normal, validation, labels


@pytest.mark.parametrize("backend,name", ANOMALY)
def test_detector_fits_scores_and_predicts(backend, name, tiny):
    ab.seed_everything(0)
    detector = build(backend, name, setting="anomaly-detection")
    normal, validation, labels = anomaly_data(backend, name, tiny)
    assert detector.fit(normal, validation, labels, progress=False) is detector
    assert len(detector.history) >= 1 and np.isfinite(detector.history["train_loss"]).all()
    scores = detector.score(validation)
    assert scores.shape == (len(validation),) and np.isfinite(scores).all() and (scores >= 0).all()
    points = detector.score_points(validation)
    assert points.shape == validation.shape[:2]
    predicted = detector.predict(validation)
    assert set(np.unique(predicted)) <= {0, 1}
    np.testing.assert_array_equal(predicted, (scores >= detector.threshold_).astype(int))
    assert detector.n_parameters > 0


@pytest.mark.parametrize("backend,name", ANOMALY)
def test_detector_save_load_round_trip(backend, name, tiny, tmp_path):
    ab.seed_everything(1)
    detector = build(backend, name, setting="anomaly-detection")
    normal, validation, labels = anomaly_data(backend, name, tiny)
    detector.fit(normal, validation, labels, progress=False)
    detector.save(tmp_path / "d")
    loaded = type(detector).load(tmp_path / "d")
    assert loaded.get_config() == detector.get_config()
    assert loaded.threshold_ == detector.threshold_
    np.testing.assert_allclose(loaded.score(validation), detector.score(validation), rtol=1e-6)
    np.testing.assert_array_equal(ab.load(tmp_path / "d").predict(validation), detector.predict(validation))


@pytest.mark.parametrize("backend,name", ANOMALY)
def test_detector_same_seed_gives_identical_scores(backend, name, tiny):
    def run():
        ab.seed_everything(7)
        detector = build(backend, name, setting="anomaly-detection")
        normal, validation, labels = anomaly_data(backend, name, tiny)
        detector.fit(normal, validation, labels, progress=False)
        return detector.score(validation)

    np.testing.assert_array_equal(run(), run())


@pytest.mark.parametrize("backend,name", ANOMALY)
def test_detector_bad_input_is_a_clear_error(backend, name, tiny):
    detector = build(backend, name, setting="anomaly-detection")
    normal, validation, labels = anomaly_data(backend, name, tiny)
    with pytest.raises(ab.NotFittedError, match="not fitted"):
        detector.score(validation)
    with pytest.raises(ab.ShapeError, match="expected 12, got 10"):
        detector.fit(normal[..., :10], progress=False)
    bad = normal.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ab.InputError, match="NaN"):
        detector.fit(bad, progress=False)
    with pytest.raises(ab.InputError, match="both normal"):
        detector.fit(normal, validation, np.zeros(len(validation), dtype=int), progress=False)
    with pytest.raises(ab.ShapeError, match="per window"):
        detector.fit(normal, validation, labels[:-1], progress=False)
    with pytest.raises(ab.InputError, match="together"):
        detector.fit(normal, validation, progress=False)
    assert len(detector.history) == 0  # nothing was learned by a rejected call
