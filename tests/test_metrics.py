"""Sample-quality metrics (core/metrics.py) against closed forms and exact counts."""
from __future__ import annotations

import numpy as np
import pytest

from accelbrainbase.core import metrics
from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.metrics import (
    class_coverage, conditional_accuracy, default_min_count, frechet_distance, median_bandwidth, mmd,
    mode_coverage, one_nn_accuracy,
)


def _gaussian(rng, mean, cov, n):
    return rng.multivariate_normal(mean, cov, size=n)


def _closed_form_frechet(mu1, c1, mu2, c2):
    from scipy.linalg import sqrtm

    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * np.real(sqrtm(c1 @ c2))))


def test_frechet_distance_of_two_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = np.array([0.0, 1.0, -1.0]), np.array([1.0, 0.5, 0.0])
    c1 = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]])
    c2 = np.array([[1.0, -0.4, 0.2], [-0.4, 2.0, 0.0], [0.2, 0.0, 1.5]])  # does not commute with c1
    a, b = _gaussian(rng, mu1, c1, 200_000), _gaussian(rng, mu2, c2, 200_000)
    truth = _closed_form_frechet(mu1, c1, mu2, c2)
    assert truth > 1.0
    assert frechet_distance(a, b) == pytest.approx(truth, rel=0.02)
    # exactly the formula with scipy's matrix root on the sample moments
    small_a, small_b = a[:50], b[:70]
    expected = _closed_form_frechet(small_a.mean(0), np.cov(small_a, rowvar=False),
                                    small_b.mean(0), np.cov(small_b, rowvar=False))
    assert frechet_distance(small_a, small_b) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(b, a) == pytest.approx(frechet_distance(a, b), rel=1e-9)


def test_frechet_distance_one_dimensional_and_identical_sets():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.0, 1.0, (100_000, 1)), rng.normal(1.0, 2.0, (100_000, 1))
    assert frechet_distance(a, b) == pytest.approx(1.0 + (2.0 - 1.0) ** 2, rel=0.02)
    same = rng.random((300, 16))
    assert frechet_distance(same, same.copy()) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(same, same + 0.5) == pytest.approx(16 * 0.25, rel=1e-6)  # only the means move


def _naive_mmd(a, b, sigma):
    def k(x, y):
        return np.exp(-np.sum((x - y) ** 2) / (2 * sigma ** 2))

    n, m = len(a), len(b)
    kaa = sum(k(a[i], a[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kbb = sum(k(b[i], b[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kab = sum(k(x, y) for x in a for y in b) / (n * m)
    return kaa + kbb - 2 * kab


def test_mmd_is_the_unbiased_estimator(monkeypatch):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(6, 3)), rng.normal(0.5, 1.0, size=(5, 3))
    assert mmd(a, b, bandwidth=1.3) == pytest.approx(_naive_mmd(a, b, 1.3), rel=1e-10)
    pooled = np.concatenate([a, b])
    distances = [np.linalg.norm(pooled[i] - pooled[j]) for i in range(11) for j in range(i + 1, 11)]
    assert median_bandwidth(a, b) == pytest.approx(np.median(distances), rel=1e-10)
    assert mmd(a, b) == pytest.approx(_naive_mmd(a, b, np.median(distances)), rel=1e-10)
    whole = mmd(a, b, bandwidth=0.7)
    monkeypatch.setattr(metrics, "BLOCK", 2)  # row blocks give the same sums
    assert mmd(a, b, bandwidth=0.7) == pytest.approx(whole, rel=1e-12)


def test_mmd_near_zero_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
    shifted = rng.normal(0.5, 1.0, size=(500, 4))
    same = mmd(a, b)
    assert abs(same) < 0.005
    assert mmd(a, shifted) > 0.05 > 10 * abs(same)
    assert mmd(a, rng.normal(2.0, 1.0, size=(500, 4))) > mmd(a, shifted)


def test_one_nn_accuracy(monkeypatch):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(400, 2)), rng.normal(size=(400, 2))
    assert one_nn_accuracy(a, b) == pytest.approx(0.5, abs=0.06)
    whole = one_nn_accuracy(a[:50], b[:40] + 0.3)
    monkeypatch.setattr(metrics, "BLOCK", 7)  # row blocks leave out the right points
    assert one_nn_accuracy(a[:50], b[:40] + 0.3) == whole
    monkeypatch.undo()
    assert one_nn_accuracy(a, rng.normal(size=(1200, 2))) == pytest.approx(0.5, abs=0.06)  # balanced
    assert one_nn_accuracy(a, b + 10.0) == 1.0
    assert one_nn_accuracy(a, a.copy()) == 0.0  # a memorised copy: every neighbour is the twin
    # by hand: a = {0, 1, 2.4}: 0 -> 1 (right), 1 -> 0 (right), 2.4 -> 3 (wrong);
    # b = {3, 4}: 3 -> 2.4 (wrong), 4 -> 3 (right); the mean of 2/3 and 1/2
    assert one_nn_accuracy([[0.0], [1.0], [2.4]], [[3.0], [4.0]]) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_class_coverage_and_conditional_accuracy_count_exactly():
    predicted = np.r_[[0] * 50, [1] * 45, [2] * 5]
    coverage = class_coverage(predicted, 10)
    np.testing.assert_allclose(coverage.shares, [0.5, 0.45, 0.05] + [0.0] * 7)
    assert coverage.covered == 3
    assert class_coverage(predicted, 10, threshold=0.06).covered == 2
    assert class_coverage(np.arange(10).repeat(3), 10).covered == 10
    requested = np.r_[[0] * 50, [1] * 40, [2] * 10]
    assert conditional_accuracy(predicted, requested) == pytest.approx(0.95)
    assert conditional_accuracy([1.0, 2.0], [1, 3]) == 0.5  # integral floats are labels


def test_mode_coverage_counts_high_quality_samples_per_mode():
    centers = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]])
    std = 0.1
    near = lambda i, k: centers[i] + np.array([0.29, 0.0])[None] * np.ones((k, 1))  # 2.9 std: good
    far = lambda i, k: centers[i] + np.array([0.31, 0.0])[None] * np.ones((k, 1))  # 3.1 std: not
    samples = np.concatenate([near(0, 60), near(1, 50), near(2, 49), far(3, 80), [[0.0, 0.0]] * 11])
    result = mode_coverage(samples, centers, std, min_count=50)
    np.testing.assert_array_equal(result.counts, [60, 50, 49, 0])
    assert result.covered == 2
    assert result.high_quality == pytest.approx(159 / 250)
    assert mode_coverage(samples, centers, std, n_std=4, min_count=50).covered == 3  # far ones count
    assert default_min_count(2500) == 50 and default_min_count(250) == 5 and default_min_count(10) == 1
    assert mode_coverage(samples, centers, std).covered == 3  # 250 samples: 5 per mode suffice


@pytest.mark.parametrize("call, error, message", [
    (lambda: frechet_distance(np.zeros((0, 3)), np.zeros((5, 3))), InputError, "a is empty"),
    (lambda: frechet_distance(np.ones((5, 3)), np.full((5, 3), np.nan)), InputError, "b contains NaN"),
    (lambda: frechet_distance(np.ones((5, 3)), np.ones((5, 4))), ShapeError, "same number of features, got 3 and 4"),
    (lambda: frechet_distance(np.ones((1, 3)), np.ones((5, 3))), InputError, "at least 2 samples, got 1"),
    (lambda: mmd(np.ones(5), np.ones((5, 1))), ShapeError, "must have 2 dimensions"),
    (lambda: mmd(np.ones((3, 2)), np.ones((3, 2))), InputError, "all samples of a and b are equal"),
    (lambda: mmd(np.eye(3), np.eye(3), bandwidth=0.0), InputError, "bandwidth must be > 0"),
    (lambda: one_nn_accuracy(np.ones((1, 2)), np.ones((1, 2))), InputError, "at least 3 samples"),
    (lambda: class_coverage([0, 1, 10], 10), InputError, r"lie in 0..9, got values from 0 to 10"),
    (lambda: class_coverage([0.5, 1.0], 10), InputError, "integer class labels"),
    (lambda: class_coverage([], 10), InputError, "predicted is empty"),
    (lambda: conditional_accuracy([0, 1, 2], [0, 1]), ShapeError, "requested has 2 labels but predicted has 3"),
    (lambda: mode_coverage(np.ones((4, 3)), np.ones((8, 2)), 0.02), ShapeError, "3 features but centers have 2"),
    (lambda: mode_coverage(np.ones((4, 2)), np.ones((8, 2)), -1.0), InputError, "std must be > 0"),
])
def test_bad_input_raises_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
