"""The evaluation of ``compare generation`` (workbench/generation_eval.py): the cached feature
extractor, the evaluator's scores and the two baselines, on digits and the ring."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.errors import InputError, NotFittedError, ShapeError
from accelbrainbase.data import load_ring
from accelbrainbase.workbench.generation_eval import (
    CACHE_ENV, FeatureExtractor, GaussianMixturePCA, GenerationEvaluator, evaluator_cache_dir,
)

SMALL = dict(epochs=3, channels=[8, 16], hidden=[32], learning_rate=0.003)  # about a second


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("evaluators")


@pytest.fixture(scope="module")
def evaluator(digits, cache):
    return GenerationEvaluator(digits, cache_dir=cache, **SMALL)


def test_the_extractor_is_an_accurate_cached_classifier(evaluator, digits, cache):
    extractor = evaluator.extractor
    assert not extractor.loaded_from_cache and extractor.directory.parent == cache
    assert extractor.directory.name.startswith("digits-")
    assert extractor.accuracy > 0.9
    state = np.random.get_state()[1].copy()
    again = GenerationEvaluator(digits, cache_dir=cache, **SMALL)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # loading leaves the caller's RNG alone
    assert again.extractor.loaded_from_cache and again.extractor.directory == extractor.directory
    np.testing.assert_array_equal(again.features(digits.x_test), evaluator.features(digits.x_test))
    assert evaluator.features(digits.x_test[:5]).shape == (5, 32)
    images = digits.x_test[:5].reshape(5, 1, 8, 8)  # image-shaped samples work too
    np.testing.assert_array_equal(evaluator.predict(images), evaluator.predict(digits.x_test[:5]))
    other = FeatureExtractor(digits, cache_dir=cache, **dict(SMALL, epochs=1))  # another key: trained
    assert not other.loaded_from_cache and other.directory != extractor.directory


def test_floor_beats_the_mixture_baseline_which_beats_noise(evaluator, digits):
    floor = evaluator.floor()
    mixture = GaussianMixturePCA(seed=0).fit(digits.x_train)
    generated = mixture.generate(len(digits.x_test))
    assert generated.shape == (len(digits.x_test), 64) and generated.dtype == np.float32
    assert 0.0 <= generated.min() and generated.max() <= 1.0  # clipped to the data's range
    np.testing.assert_array_equal(mixture.generate(10), mixture.generate(10))  # seeded
    baseline = evaluator.score(generated)
    noise = evaluator.score(np.random.default_rng(0).random((len(digits.x_test), 64)).astype(np.float32))
    for key in ("frechet", "one_nn", "mmd"):
        assert floor[key] < baseline[key] < noise[key], key
    assert abs(floor["one_nn"] - 0.5) < 0.1 and floor["classes_covered"] == 10
    assert floor["conditional_accuracy"] > 0.9 and "conditional_accuracy" not in baseline
    assert floor["n"] == baseline["n"] == len(digits.x_test)
    assert np.sum(floor["class_shares"]) == pytest.approx(1.0)
    assert mixture.pca_.n_components_ == 21  # 90% of the variance of digits
    assert GaussianMixturePCA(n_codes=5).fit(digits.x_train).pca_.n_components_ == 5
    assert mixture.n_parameters > 0


def test_score_with_requested_labels_and_bad_input(evaluator, digits):
    x, y = digits.x_test[:200], digits.y_test[:200]
    predicted = evaluator.predict(x)
    scores = evaluator.score(x, requested_labels=y)
    assert scores["n"] == 200
    assert scores["conditional_accuracy"] == pytest.approx(np.mean(predicted == y))
    wrong = evaluator.score(x, requested_labels=(y + 1) % 10)["conditional_accuracy"]
    assert wrong < 0.1
    one_class = evaluator.score(x[predicted == 3])
    assert one_class["classes_covered"] == 1 and one_class["one_nn"] > 0.7
    with pytest.raises(ShapeError, match="samples of 64 values each"):
        evaluator.score(np.zeros((10, 65), dtype=np.float32))
    with pytest.raises(ShapeError, match="requested_labels has 3 labels but there are 200 samples"):
        evaluator.score(x, requested_labels=[0, 1, 2])
    with pytest.raises(InputError, match="contains NaN"):
        evaluator.score(np.full((10, 64), np.nan, dtype=np.float32))


def test_an_unreadable_cache_is_retrained(digits, tmp_path):
    first = FeatureExtractor(digits, cache_dir=tmp_path, **dict(SMALL, epochs=1))
    (first.directory / "model.json").write_text("{ not json")
    with pytest.warns(RuntimeWarning, match="retraining the feature extractor"):
        second = FeatureExtractor(digits, cache_dir=tmp_path, **dict(SMALL, epochs=1))
    assert not second.loaded_from_cache
    np.testing.assert_array_equal(second.features(digits.x_test[:20]), first.features(digits.x_test[:20]))
    assert FeatureExtractor(digits, cache_dir=tmp_path, **dict(SMALL, epochs=1)).loaded_from_cache


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert str(evaluator_cache_dir()).endswith(".cache/accelbrainbase/evaluators")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert evaluator_cache_dir() == tmp_path / "evaluators"
    assert evaluator_cache_dir(tmp_path / "mine") == tmp_path / "mine"


def test_extractor_settings_are_checked(digits, tmp_path):
    with pytest.raises(InputError, match=r"unknown feature-extractor settings \['width'\]"):
        FeatureExtractor(digits, cache_dir=tmp_path, width=3)
    with pytest.raises(InputError, match="CNN for image data sets"):
        FeatureExtractor(load_ring(n_train=16, n_test=8), cache_dir=tmp_path)
    with pytest.raises(NotFittedError, match="fit"):
        GaussianMixturePCA().generate(3)
    with pytest.raises(InputError, match=r"share of the variance in \(0, 1\), got 1.5"):
        GaussianMixturePCA(n_codes=1.5)


def test_ring_scores_modes_and_nearest_mode_classes():
    ring = load_ring()
    evaluator = GenerationEvaluator(ring)
    assert evaluator.extractor is None
    floor = evaluator.floor()
    assert floor["modes_covered"] == 8 and floor["high_quality"] > 0.97
    assert floor["conditional_accuracy"] == 1.0 and floor["classes_covered"] == 8
    rng = np.random.default_rng(0)
    modes = rng.integers(0, 3, 2500)
    collapsed = ring.centers[modes] + rng.normal(0.0, 0.02, (2500, 2))
    scores = evaluator.score(collapsed, requested_labels=modes)
    assert scores["modes_covered"] == 3 and scores["classes_covered"] == 3
    assert scores["conditional_accuracy"] == 1.0 and scores["n"] == 1000
    assert scores["one_nn"] > 0.7 and scores["mmd"] > 0.1 and scores["frechet"] > floor["frechet"] + 1.0
    blurred = evaluator.score(ring.centers[rng.integers(0, 8, 2500)] + rng.normal(0.0, 0.2, (2500, 2)))
    assert blurred["modes_covered"] == 0 and blurred["high_quality"] < 0.1
    mixture = GaussianMixturePCA(seed=0).fit(ring.x_train)
    assert evaluator.score(mixture.generate(2500))["modes_covered"] == 8


def test_evaluator_does_not_touch_the_global_seed(digits, tmp_path):
    """Training (cache miss) or loading (hit) the extractor leaves the caller's random streams as
    they were, so a run does not depend on the state of the cache."""
    import torch

    ab.seed_everything(5)
    expected = np.random.random(3), torch.rand(3)
    for _ in ("miss", "hit"):
        ab.seed_everything(5)
        GenerationEvaluator(digits, cache_dir=tmp_path, **dict(SMALL, epochs=1))
        np.testing.assert_array_equal(np.random.random(3), expected[0])
        assert torch.equal(torch.rand(3), expected[1])
