"""Seeded train/test index splits (stratified by class when labels are integers)."""
from __future__ import annotations

import math

import numpy as np


def split_indices(
    n: int, test_size: float, rng: np.random.Generator, stratify: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(train_idx, test_idx)``, sorted, with ``ceil(test_size * n)`` test samples.

    With ``stratify`` (integer labels, shape (n,)) each class contributes to the test set in
    proportion to its size (largest-remainder rounding, so the total is exact).
    """
    n_test = min(max(math.ceil(test_size * n), 1), n - 1)
    if stratify is None:
        perm = rng.permutation(n)
        return np.sort(perm[n_test:]), np.sort(perm[:n_test])
    classes, y = np.unique(stratify, return_inverse=True)
    counts = np.bincount(y.ravel(), minlength=len(classes))
    quota = counts * (n_test / n)
    per_class = np.floor(quota).astype(np.int64)
    short = n_test - int(per_class.sum())
    if short > 0:
        # Largest fractional part first; ties broken at random.
        order = np.lexsort((rng.random(len(classes)), -(quota - per_class)))
        per_class[order[:short]] += 1
    test = []
    for c, k in enumerate(per_class):
        members = np.flatnonzero(y == c)
        test.append(rng.permutation(members)[:k])
    test_idx = np.sort(np.concatenate(test))
    mask = np.ones(n, dtype=bool)
    mask[test_idx] = False
    return np.flatnonzero(mask), test_idx
