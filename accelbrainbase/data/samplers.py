"""Samplers (:class:`SamplableData`), NumPy only: noise for generators, priors for adversarial
auto-encoders, conditions (class labels), and true data drawn batch by batch.

``draw()`` returns one batch of ``batch_size`` samples; ``draw(n)`` returns ``n``. Each sampler
owns a generator seeded by ``seed`` (or, with ``None``, drawn from NumPy's global state, so
``seed_everything`` makes a run reproducible).
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Iterator, Optional, Tuple

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import IteratableData, SamplableData
from accelbrainbase.core.validation import check_positive
from accelbrainbase.data._common import check_finite_number, check_seed, jsonable, make_rng


class _Sampler(SamplableData):
    """Shared behaviour: ``batch_size``, a seeded generator, config from the constructor."""

    def __init__(self, batch_size: int, seed: Optional[int]) -> None:
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        self.seed = check_seed(seed)
        self._rng = make_rng(self.seed)

    def _n(self, n: Optional[int]) -> int:
        return self.batch_size if n is None else check_positive("n", n, integer=True)

    def get_config(self) -> dict:
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: jsonable(getattr(self, name)) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class UniformNoiseSampler(_Sampler):
    """Noise z ~ U(low, high)^dim, shape (n, dim), float32."""

    def __init__(self, dim: int, low: float = -1.0, high: float = 1.0, batch_size: int = 64,
                 seed: Optional[int] = None):
        super().__init__(batch_size, seed)
        self.dim = check_positive("dim", dim, integer=True)
        self.low = check_finite_number("low", low)
        self.high = check_finite_number("high", high)
        if not self.low < self.high:
            raise InputError(f"low must be below high, got low={low}, high={high}")

    def draw(self, n: Optional[int] = None) -> np.ndarray:
        return self._rng.uniform(self.low, self.high, (self._n(n), self.dim)).astype(np.float32)


class NormalNoiseSampler(_Sampler):
    """Noise z ~ N(mean, std^2 I), shape (n, dim), float32."""

    def __init__(self, dim: int, mean: float = 0.0, std: float = 1.0, batch_size: int = 64,
                 seed: Optional[int] = None):
        super().__init__(batch_size, seed)
        self.dim = check_positive("dim", dim, integer=True)
        self.mean = check_finite_number("mean", mean)
        self.std = check_positive("std", check_finite_number("std", std))

    def draw(self, n: Optional[int] = None) -> np.ndarray:
        return (self.mean + self.std * self._rng.standard_normal((self._n(n), self.dim))).astype(np.float32)


class NormalTrueSampler(NormalNoiseSampler):
    """A Gaussian N(mean, std^2 I) playing the true distribution (toy problems, AAE priors)."""


class MixtureOfGaussiansSampler(_Sampler):
    """A mixture of ``n_components`` Gaussians with equal weights, the adversarial auto-encoder's
    mixture prior (Makhzani et al. 2016, "Adversarial autoencoders", sec. 2 and fig. 4).

    Component k is centred at ``radius * (cos 2 pi k / K, sin 2 pi k / K, 0, ...)`` (the first two
    code dimensions; the others are centred at 0) with isotropic ``std``. ``draw(n, labels)``
    draws sample i from component ``labels[i]`` (the label-conditioned prior of the paper's
    semi-supervised AAE); without labels the components are drawn uniformly. Needs ``dim >= 2``.
    """

    def __init__(self, dim: int = 2, n_components: int = 10, radius: float = 4.0, std: float = 0.5,
                 batch_size: int = 64, seed: Optional[int] = None):
        super().__init__(batch_size, seed)
        self.dim = check_positive("dim", dim, integer=True)
        if self.dim < 2:
            raise InputError(f"a mixture-of-Gaussians prior needs dim >= 2 (its centres lie on a circle), got {dim}")
        self.n_components = check_positive("n_components", n_components, integer=True)
        self.radius = check_positive("radius", check_finite_number("radius", radius), allow_zero=True)
        self.std = check_positive("std", check_finite_number("std", std))

    @property
    def centres(self) -> np.ndarray:
        """(n_components, dim) component means."""
        angles = 2 * math.pi * np.arange(self.n_components) / self.n_components
        centres = np.zeros((self.n_components, self.dim))
        centres[:, 0], centres[:, 1] = self.radius * np.cos(angles), self.radius * np.sin(angles)
        return centres

    def draw(self, n: Optional[int] = None, labels: Any = None) -> np.ndarray:
        if labels is None:
            labels = self._rng.integers(0, self.n_components, self._n(n))
        else:
            labels = check_labels("labels", labels, self.n_components)
            if n is not None and len(labels) != n:
                raise ShapeError(f"draw(n={n}) got {len(labels)} labels")
        noise = self.std * self._rng.standard_normal((len(labels), self.dim))
        return (self.centres[labels] + noise).astype(np.float32)


class ConditionSampler(_Sampler):
    """Class labels drawn uniformly from 0..n_classes-1, (n,) int64: the conditions a
    conditional generator is asked for."""

    def __init__(self, n_classes: int, batch_size: int = 64, seed: Optional[int] = None):
        super().__init__(batch_size, seed)
        self.n_classes = check_positive("n_classes", n_classes, integer=True)

    def draw(self, n: Optional[int] = None) -> np.ndarray:
        return self._rng.integers(0, self.n_classes, self._n(n)).astype(np.int64)


class TrueSampler(SamplableData):
    """Draws the (clean) training batches of an :class:`IteratableData` one at a time, starting a
    new shuffled epoch when one ends: real data as a sampler."""

    def __init__(self, iteratable_data: IteratableData):
        if not isinstance(iteratable_data, IteratableData):
            raise InputError(f"TrueSampler needs an IteratableData, got {type(iteratable_data).__name__}")
        self.iteratable_data = iteratable_data
        self._batches: Optional[Iterator] = None

    @property
    def batch_size(self) -> int:
        return self.iteratable_data.batch_size

    def _next_batch(self):
        for _ in range(2):
            if self._batches is None:
                self._batches = iter(self.iteratable_data.generate_learned_samples())
            try:
                return next(self._batches)
            except StopIteration:
                self._batches = None
        raise InputError("the iterator yields no training batches")

    def draw(self) -> np.ndarray:
        return self._next_batch().clean


class LabeledTrueSampler(TrueSampler):
    """A :class:`TrueSampler` whose ``draw()`` returns ``(samples, labels)``."""

    def __init__(self, iteratable_data: IteratableData):
        super().__init__(iteratable_data)
        if not iteratable_data.has_labels:
            raise InputError("LabeledTrueSampler needs an iterator with labels")

    def draw(self) -> Tuple[np.ndarray, np.ndarray]:
        batch = self._next_batch()
        return batch.clean, batch.targets


def check_labels(what: str, labels: Any, n_classes: int) -> np.ndarray:
    """Class labels (n,) as int64 in 0..n_classes-1, else a clear error."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ShapeError(f"{what} must be one class label per sample (n,), got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind != "f" or not np.array_equal(arr, np.round(arr)):
            raise InputError(f"{what} must be integer class labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise InputError(f"{what} must lie in 0..{n_classes - 1} ({n_classes} classes), "
                         f"got values from {arr.min()} to {arr.max()}")
    return arr


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n,) labels -> (n, n_classes) float32 one-hot rows."""
    out = np.zeros((len(labels), n_classes), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out
