"""Synthetic data sets for generative models (NumPy only).

The ring of Gaussians is the standard mode-collapse test (Metz et al. 2017, "Unrolled
generative adversarial networks"; Srivastava et al. 2017, "VEEGAN"): eight 2-D Gaussians with
std 0.02 on a circle of radius 2; a collapsed generator covers few of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelbrainbase.core.validation import check_positive
from accelbrainbase.data.datasets import Dataset


@dataclass(frozen=True, eq=False)
class RingDataset(Dataset):
    """A :class:`Dataset` of points (N, 2) from a ring of Gaussians; ``y`` is the mode index and
    ``centers`` (modes, 2) / ``std`` describe the mixture (for :func:`mode_coverage`)."""

    centers: np.ndarray = None
    std: float = 0.02

    def __repr__(self) -> str:
        return (f"RingDataset(n_train={len(self.x_train)}, n_test={len(self.x_test)}, "
                f"modes={len(self.centers)}, std={self.std})")


def ring_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """``modes`` points evenly spaced on a circle of ``radius``, the first at (radius, 0): (modes, 2)."""
    modes = check_positive("modes", modes, integer=True)
    radius = check_positive("radius", radius)
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def load_ring(n_train: int = 4000, n_test: int = 1000, modes: int = 8, radius: float = 2.0,
              std: float = 0.02, seed: int = 0, flatten: bool = True) -> RingDataset:
    """The ring of ``modes`` Gaussians (radius 2, std 0.02 by default): x float32 (N, 2), y the
    mode (int64), every mode equally often (shuffled), training and test parts drawn
    independently with ``seed``. ``flatten`` is accepted for :func:`load_dataset`'s signature
    (the points are flat anyway)."""
    n_train = check_positive("n_train", n_train, integer=True)
    n_test = check_positive("n_test", n_test, integer=True)
    std = check_positive("std", std)
    centers = ring_centers(modes, radius)
    rng = np.random.default_rng(seed)

    def draw(n: int):
        y = rng.permutation(np.arange(n) % len(centers)).astype(np.int64)
        x = centers[y] + rng.normal(0.0, std, size=(n, 2))
        return x.astype(np.float32), y

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    centers.flags.writeable = False
    return RingDataset(name="ring", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                       image_shape=(2,), n_classes=len(centers), centers=centers, std=std)
