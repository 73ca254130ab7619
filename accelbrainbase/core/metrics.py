"""Sample-quality metrics for generative models (NumPy only): two-sample distances between
feature sets, class coverage and conditional accuracy of a classifier's predictions, and mode
coverage of the 2-D ring of Gaussians.

Feature sets are arrays (N, D): one row per sample (for images, a classifier's penultimate
activations; for the ring, the points themselves). Xu et al. 2018 ("An empirical study on
evaluation metrics of generative adversarial networks") found kernel MMD and the 1-NN
two-sample test the most discriminative and robust of the sample-based metrics.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.validation import check_array, check_fraction, check_positive

#: rows per block of pairwise distances (bounds memory at BLOCK x N float64)
BLOCK = 1024
#: points used for the median heuristic (a seeded subset of larger pooled sets)
MEDIAN_POINTS = 1000


def _features(what: str, arr: Any, min_rows: int = 1) -> np.ndarray:
    out = check_array(what, arr, ndim=2, dtype=np.float64)
    if len(out) < min_rows:
        raise InputError(f"{what} needs at least {min_rows} samples, got {len(out)}")
    return out


def _pair(a: Any, b: Any, min_rows: int = 1) -> tuple:
    a, b = _features("a", a, min_rows), _features("b", b, min_rows)
    if a.shape[1] != b.shape[1]:
        raise ShapeError(f"a and b must have the same number of features, got {a.shape[1]} and {b.shape[1]}")
    return a, b


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||x_i - y_j||^2 (len(x), len(y)), clipped at 0 against rounding."""
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return np.maximum(d, 0.0)


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(c)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(a: Any, b: Any) -> float:
    """Fréchet (2-Wasserstein) distance between Gaussians fitted to feature sets a (N, D) and
    b (M, D) (Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a
    local Nash equilibrium", the FID with one's own features; Dowson & Landau 1982):
    ||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)).

    Tr((C_a C_b)^(1/2)) is the sum of the square roots of the eigenvalues of the symmetric
    PSD matrix C_a^(1/2) C_b C_a^(1/2) (similar to C_a C_b), so no non-symmetric matrix root is
    needed. Covariances are unbiased (N - 1); each set needs at least 2 samples.
    """
    a, b = _pair(a, b, min_rows=2)
    mean = a.mean(0) - b.mean(0)
    ca, cb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = _psd_sqrt(ca)
    cross = root @ cb @ root
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((cross + cross.T) / 2.0), 0.0, None)).sum()
    value = float(mean @ mean + np.trace(ca) + np.trace(cb) - 2.0 * trace_root)
    return max(value, 0.0)


def median_bandwidth(a: Any, b: Any) -> float:
    """The median heuristic: the median distance between distinct points of the pooled sets
    (a seeded subset of :data:`MEDIAN_POINTS` points when larger) (Gretton et al. 2012)."""
    a, b = _pair(a, b)
    pooled = np.concatenate([a, b])
    if len(pooled) > MEDIAN_POINTS:
        pooled = pooled[np.random.default_rng(0).choice(len(pooled), MEDIAN_POINTS, replace=False)]
    d = _squared_distances(pooled, pooled)[np.triu_indices(len(pooled), k=1)]
    positive = d[d > 0]
    if positive.size == 0:
        raise InputError("the median heuristic needs distinct points, but all samples of a and b are equal; "
                         "pass a bandwidth")
    return float(np.sqrt(np.median(positive)))


def _kernel_sum(x: np.ndarray, y: np.ndarray, gamma: float) -> float:
    """sum_ij exp(-gamma ||x_i - y_j||^2), in row blocks."""
    return float(sum(np.exp(-gamma * _squared_distances(x[i:i + BLOCK], y)).sum()
                     for i in range(0, len(x), BLOCK)))


def mmd(a: Any, b: Any, bandwidth: Optional[float] = None) -> float:
    """Unbiased squared maximum mean discrepancy between a (N, D) and b (M, D) with the Gaussian
    kernel k(x, y) = exp(-||x - y||^2 / (2 bandwidth^2)) (Gretton et al. 2012, "A kernel
    two-sample test", eq. 3, MMD^2_u); ``bandwidth`` defaults to the median heuristic.
    About 0 (and possibly slightly negative) for samples of the same distribution; each set
    needs at least 2 samples."""
    a, b = _pair(a, b, min_rows=2)
    sigma = median_bandwidth(a, b) if bandwidth is None else check_positive("bandwidth", bandwidth)
    gamma = 1.0 / (2.0 * sigma * sigma)
    n, m = len(a), len(b)
    kaa = (_kernel_sum(a, a, gamma) - n) / (n * (n - 1))  # the diagonal terms are exp(0) = 1
    kbb = (_kernel_sum(b, b, gamma) - m) / (m * (m - 1))
    kab = _kernel_sum(a, b, gamma) / (n * m)
    return float(kaa + kbb - 2.0 * kab)


def one_nn_accuracy(a: Any, b: Any) -> float:
    """Leave-one-out 1-nearest-neighbour two-sample accuracy (Lopez-Paz & Oquab 2017,
    "Revisiting classifier two-sample tests"; Xu et al. 2018): each point of the pooled sets is
    classified by the set of its nearest other point (Euclidean); the result is the mean of the
    two sets' accuracies (equal to the plain accuracy for equal sizes). 0.5 is ideal (the sets
    are indistinguishable); 1.0 means every point's neighbour is from its own set (e.g. a
    generator far from the data, or one that memorised it: 0 for copies of the data)."""
    a, b = _pair(a, b)
    if len(a) + len(b) < 3:
        raise InputError(f"one_nn_accuracy needs at least 3 samples in all, got {len(a)} + {len(b)}")
    pooled = np.concatenate([a, b])
    labels = np.r_[np.zeros(len(a), dtype=bool), np.ones(len(b), dtype=bool)]
    nearest = np.empty(len(pooled), dtype=np.int64)
    for i in range(0, len(pooled), BLOCK):
        d = _squared_distances(pooled[i:i + BLOCK], pooled)
        rows = np.arange(len(d))
        d[rows, rows + i] = np.inf  # leave the point itself out
        nearest[i:i + BLOCK] = d.argmin(axis=1)
    correct = labels[nearest] == labels
    return float((correct[~labels].mean() + correct[labels].mean()) / 2.0)


def _labels(what: str, arr: Any) -> np.ndarray:
    out = check_array(what, arr, ndim=1, dtype=None)
    if out.dtype.kind not in "iu" and not (out.dtype.kind == "f" and np.all(out == np.round(out))):
        raise InputError(f"{what} must hold integer class labels, got dtype {out.dtype}")
    return out.astype(np.int64)


class Coverage(NamedTuple):
    """Shares of samples per predicted class (n_classes,) and how many reach the threshold."""

    shares: np.ndarray
    covered: int


def class_coverage(predicted: Any, n_classes: int, threshold: float = 0.05) -> Coverage:
    """The share of samples per predicted class and the number of classes with a share >=
    ``threshold`` (a classifier's predictions on generated samples: a collapsed generator
    covers few classes)."""
    n_classes = check_positive("n_classes", n_classes, integer=True)
    threshold = check_fraction("threshold", threshold, allow_one=True)
    predicted = _labels("predicted", predicted)
    if predicted.min() < 0 or predicted.max() >= n_classes:
        raise InputError(f"predicted labels must lie in 0..{n_classes - 1}, got values from "
                         f"{predicted.min()} to {predicted.max()}")
    shares = np.bincount(predicted, minlength=n_classes) / len(predicted)
    return Coverage(shares, int((shares >= threshold).sum()))


def conditional_accuracy(predicted: Any, requested: Any) -> float:
    """The share of samples whose predicted class equals the class requested from a conditional
    generator (cGAN, Mirza & Osindero 2014; label-conditioned AAE, Makhzani et al. 2016)."""
    predicted, requested = _labels("predicted", predicted), _labels("requested", requested)
    if predicted.shape != requested.shape:
        raise ShapeError(f"requested has {len(requested)} labels but predicted has {len(predicted)}; "
                         "they must match")
    return float(np.mean(predicted == requested))


class ModeCoverage(NamedTuple):
    """Modes captured, the share of high-quality samples, and the high-quality count per mode."""

    covered: int
    high_quality: float
    counts: np.ndarray


def default_min_count(n_samples: int) -> int:
    """VEEGAN's 50 high-quality samples of 2,500 per captured mode, scaled: ceil(n / 50)."""
    return max(1, -(-int(n_samples) // 50))


def mode_coverage(samples: Any, centers: Any, std: float, n_std: float = 3.0,
                  min_count: Optional[int] = None) -> ModeCoverage:
    """Mode coverage of samples (N, D) from a mixture of Gaussians with ``centers`` (K, D) and
    common ``std`` (Srivastava et al. 2017, "VEEGAN: reducing mode collapse in GANs using
    implicit variational learning", sec. 5.1): a sample is high-quality when it lies within
    ``n_std`` standard deviations of its nearest centre; a mode is covered when at least
    ``min_count`` high-quality samples are nearest to it (default :func:`default_min_count`:
    VEEGAN's 50 of 2,500 samples, scaled to N)."""
    samples = _features("samples", samples)
    centers = _features("centers", centers)
    if samples.shape[1] != centers.shape[1]:
        raise ShapeError(f"samples have {samples.shape[1]} features but centers have {centers.shape[1]}; "
                         "they must match")
    std = check_positive("std", std)
    n_std = check_positive("n_std", n_std)
    min_count = default_min_count(len(samples)) if min_count is None else check_positive(
        "min_count", min_count, integer=True)
    d = _squared_distances(samples, centers)
    nearest = d.argmin(axis=1)
    good = np.sqrt(d[np.arange(len(samples)), nearest]) <= n_std * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    return ModeCoverage(int((counts >= min_count).sum()), float(good.mean()), counts)
