"""The NumPy half of EncDec-AD: ROC-AUC, F-beta threshold search, the Gaussian error model."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models.anomaly import (
    GaussianErrorModel, best_fbeta_threshold, precision_recall_fbeta, roc_auc,
)
from accelbrainbase.models.recurrent import canonical_lstm_name, reorder_gates


def test_roc_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.normal(labels * 0.8, 1.0), 1)  # many ties
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert roc_auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0 and roc_auc([1, 1], [0, 1]) == 0.5


def test_fbeta_and_the_best_threshold_by_brute_force():
    from sklearn.metrics import fbeta_score, precision_score, recall_score

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200)
    scores = rng.normal(labels, 1.0)
    for beta in (0.1, 1.0, 2.0):
        best = best_fbeta_threshold(scores, labels, beta)
        brute = max((fbeta_score(labels, (scores >= t).astype(int), beta=beta), t) for t in np.unique(scores))
        assert best["fbeta"] == pytest.approx(brute[0])
        predicted = (scores >= best["threshold"]).astype(int)
        p, r, f = precision_recall_fbeta(predicted, labels, beta)
        assert (p, r, f) == pytest.approx((precision_score(labels, predicted), recall_score(labels, predicted),
                                           fbeta_score(labels, predicted, beta=beta)))
        assert best["precision"] == pytest.approx(p) and best["recall"] == pytest.approx(r)
    # precision first: with beta=0.1 a clean top slice beats catching everything
    assert best_fbeta_threshold([1, 2, 3, 9, 10], [1, 0, 0, 1, 1], 0.1)["threshold"] == 9


def test_gaussian_error_model_is_the_maximum_likelihood_fit():
    rng = np.random.default_rng(2)
    errors = rng.multivariate_normal([1.0, -2.0, 0.5], [[2, 0.5, 0], [0.5, 1, 0.3], [0, 0.3, 0.5]], 5000)
    model = GaussianErrorModel("full", ridge=0.0).fit(errors)
    np.testing.assert_allclose(model.mean_, errors.mean(0))
    np.testing.assert_allclose(model.covariance_, np.cov(errors.T, bias=True))
    e = rng.normal(size=(4, 7, 3))
    centred = e - model.mean_
    expected = np.sqrt(np.einsum("nti,ij,ntj->nt", centred, np.linalg.inv(model.covariance_), centred))
    np.testing.assert_allclose(model.distance(e), expected)
    diagonal = GaussianErrorModel("diagonal", ridge=0.0).fit(errors)
    np.testing.assert_allclose(diagonal.distance(e[0]),
                               np.sqrt((((e[0] - errors.mean(0)) / errors.std(0)) ** 2).sum(-1)))
    univariate = GaussianErrorModel().fit(errors[:, :1])  # auto: the variance
    np.testing.assert_allclose(univariate.distance(e[0, :, :1]),
                               np.abs(e[0, :, 0] - errors[:, 0].mean()) / errors[:, 0].std(), rtol=1e-5)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ab.InputError, match="at least two features, got 1"):
        GaussianErrorModel("full").fit(np.ones((10, 1)))
    with pytest.raises(ab.InputError, match="unknown covariance 'tied'; valid: auto, full, diagonal"):
        GaussianErrorModel("tied")
    with pytest.raises(ab.InputError, match="NaN"):
        GaussianErrorModel().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ab.NotFittedError):
        GaussianErrorModel().distance(np.ones((2, 2)))
    with pytest.raises(ab.ShapeError, match="3 features, expected 2"):
        GaussianErrorModel().fit(np.random.default_rng(0).normal(size=(9, 2))).distance(np.ones((2, 3)))
    with pytest.raises(ab.InputError, match="both normal"):
        roc_auc([1, 2], [1, 1])
    with pytest.raises(ab.InputError, match="only 0"):
        best_fbeta_threshold([1, 2], [0, 2])
    with pytest.raises(ab.ShapeError, match="2 values but labels has 3"):
        roc_auc([1, 2], [0, 1, 1])


def test_canonical_lstm_names_and_gate_order():
    assert canonical_lstm_name("encoder._unfused.1.i2h_weight") == "encoder.weight_ih_l1"
    assert canonical_lstm_name("lstm._unfused.0.h2h_bias") == "lstm.bias_hh_l0"
    assert canonical_lstm_name("output.weight") == "output.weight"
    w = np.arange(8).reshape(8, 1)
    np.testing.assert_array_equal(reorder_gates(w, "torch", "mxnet"), w)  # both i, f, g(c), o


# -- the threshold is chosen on the score predict compares ----------------------------------------------
def _labelled_windows():
    from accelbrainbase.models.recurrent import example_sequences

    x = example_sequences(np.random.default_rng(0), 60, 2, 6)
    validation = x[40:].copy()
    points = np.zeros(validation.shape[:2], dtype=np.int64)
    points[::2, 3] = 1
    validation[points == 1] += 1.0
    return x[:40], validation, points


def test_mean_window_score_chooses_and_applies_the_threshold_on_window_means(backend):
    normal, validation, points = _labelled_windows()
    windows = points.max(axis=1)
    ab.seed_everything(0)
    detector = backend.EncDecAD(2, 8, epochs=2, batch_size=16, window_score="mean")
    detector.fit(normal, validation, points, progress=False)
    chosen = best_fbeta_threshold(detector.score(validation), windows, 0.1)
    assert detector.threshold_ == pytest.approx(chosen["threshold"])
    # predict on the validation windows gives exactly the F-beta the threshold was chosen for
    assert precision_recall_fbeta(detector.predict(validation), windows, 0.1) == pytest.approx(
        (chosen["precision"], chosen["recall"], chosen["fbeta"]))
    assert detector.validation_["fbeta"] == pytest.approx(chosen["fbeta"])
    with pytest.raises(ab.InputError, match="predict_points compares point scores.*window means"):
        detector.predict_points(validation)
    every = np.zeros_like(points)
    every[:, 3] = 1  # both point classes, but every window anomalous: no window threshold to choose
    with pytest.raises(ab.InputError, match="every validation window is anomalous"):
        backend.EncDecAD(2, 8, epochs=1, window_score="mean").fit(normal, validation, every, progress=False)


def test_max_window_score_keeps_the_point_threshold_consistent_with_predict(backend):
    normal, validation, points = _labelled_windows()
    ab.seed_everything(0)
    detector = backend.EncDecAD(2, 8, epochs=2, batch_size=16)
    detector.fit(normal, validation, points, progress=False)
    point_scores = detector.score_points(validation)
    assert detector.threshold_ == pytest.approx(best_fbeta_threshold(point_scores, points, 0.1)["threshold"])
    np.testing.assert_array_equal(detector.predict(validation), (point_scores >= detector.threshold_).any(axis=1))
    np.testing.assert_array_equal(detector.predict_points(validation), point_scores >= detector.threshold_)
