"""Semi-supervised data: few labelled samples among many unlabelled ones.

Convention: an **unlabelled sample has the label -1** (:data:`UNLABELLED`) in an integer targets
array, so one array ``y`` (N,) carries both kinds. Only semi-supervised models (the ladder
networks) accept -1; every other classifier refuses it at ``learn`` with a clear error.

- :func:`split_labelled` keeps ``k`` labels per class (stratified, seeded) and hides the rest.
- :class:`SemiSupervisedIterator` builds batches with a labelled and an unlabelled part, as
  Rasmus et al. 2015 do: the few labelled samples are cycled (repeated) so that every batch
  holds ``labelled_batch_size`` of them, next to ``batch_size`` samples of the whole training
  set (labelled ones included) whose labels are hidden. An epoch is one pass over the whole
  training set. (With a plain :class:`ArrayIterator` over ``y`` with -1 labels, a batch of 32
  drawn from 100 labels among 1,437 digits holds about 2 labelled samples, and many hold none.)
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from accelbrainbase.core.errors import InputError
from accelbrainbase.core.interfaces import Batch
from accelbrainbase.core.validation import check_positive
from accelbrainbase.data._common import check_seed, make_rng
from accelbrainbase.data.iterators import ArrayIterator

#: the label of an unlabelled sample
UNLABELLED = -1


def _integer_labels(what: str, y: Any) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InputError(f"{what} must be a 1-D array of class labels, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{what} is empty")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.all(arr == np.round(arr)):
            bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))][0]
            raise InputError(f"{what} must hold integer class labels, got the non-integer value {float(bad)!r}")
    elif arr.dtype.kind not in "iub":
        raise InputError(f"{what} must hold integer class labels, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def check_labels_per_class(value: Any) -> int:
    """``value`` if it is an integer >= 1, else an :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"labels_per_class must be an integer >= 1, got {value!r}")
    return int(value)


def split_labelled(y: Any, labels_per_class: int, seed: int | None = None) -> np.ndarray:
    """A copy of the labels ``y`` (N,) in which all but ``labels_per_class`` labels of each class
    are replaced by -1 (unlabelled). The kept samples are drawn per class (stratified) with a
    generator seeded by ``seed``; the result has ``labels_per_class * n_classes`` labels >= 0.

    Raises :class:`InputError` for non-integer or negative labels, ``labels_per_class < 1`` or a
    class with fewer than ``labels_per_class`` samples.
    """
    y = _integer_labels("y", y)
    if y.min() < 0:
        raise InputError(f"y must hold class labels >= 0 (all samples labelled), got {int(y.min())}")
    check_labels_per_class(labels_per_class)
    rng = make_rng(check_seed(seed))
    classes, counts = np.unique(y, return_counts=True)
    short = [(int(c), int(n)) for c, n in zip(classes, counts) if n < labels_per_class]
    if short:
        listed = ", ".join(f"class {c} has {n}" for c, n in short)
        raise InputError(f"labels_per_class={labels_per_class} but {listed} sample(s)")
    out = np.full_like(y, UNLABELLED)
    for c in classes:
        keep = rng.choice(np.flatnonzero(y == c), size=labels_per_class, replace=False)
        out[keep] = c
    return out


class SemiSupervisedIterator(ArrayIterator):
    """Batches of ``labelled_batch_size`` labelled samples plus ``batch_size`` samples of the
    whole training set with hidden labels (targets -1), for semi-supervised models.

    ``y`` (N,) holds class labels and -1 for unlabelled samples (see :func:`split_labelled`).
    The labelled samples are drawn from a shuffled cycle over the labelled set (reshuffled at
    each pass, so they repeat within an epoch when there are few); the unlabelled part walks
    through a new permutation of all N training samples each epoch (last batch kept), so an epoch
    has ``ceil(N / batch_size)`` batches. Batch targets: (labelled_batch_size + b,), the labelled
    part first. Held-out data, normalisation and noise as in :class:`ArrayIterator`.
    """

    def __init__(self, x: Any, y: Any, *, labelled_batch_size: int | None = None, **kwargs: Any):
        if y is None:
            raise InputError("SemiSupervisedIterator needs labels y (-1 marks an unlabelled sample)")
        y = _integer_labels("y", y)
        if y.min() < UNLABELLED:
            raise InputError(f"y must hold class labels >= 0 or -1 (unlabelled), got {int(y.min())}")
        super().__init__(x, y, **kwargs)
        self.labelled_batch_size = (self.batch_size if labelled_batch_size is None
                                    else check_positive("labelled_batch_size", labelled_batch_size, integer=True))
        self.labelled_index = np.flatnonzero(self.y_train != UNLABELLED)
        if len(self.labelled_index) == 0:
            raise InputError("y has no labelled sample (every label is -1); keep at least one per class")
        self._cycle: list = []

    @property
    def n_labelled(self) -> int:
        return len(self.labelled_index)

    def _next_labelled(self) -> np.ndarray:
        picked = []
        need = self.labelled_batch_size
        while need > 0:
            if not self._cycle:
                self._cycle = list(self._rng.permutation(self.labelled_index))
            take, self._cycle = self._cycle[:need], self._cycle[need:]
            picked.extend(take)
            need -= len(take)
        return np.asarray(picked, dtype=np.int64)

    def generate_learned_samples(self) -> Iterator[Batch]:
        x, y, size = self.x_train, self.y_train, self.batch_size
        order = self._rng.permutation(len(x)) if self.shuffle else np.arange(len(x))
        for start in range(0, len(x), size):
            labelled = self._next_labelled()
            part = order[start:start + size]
            clean = np.concatenate([x[labelled], x[part]])
            targets = np.concatenate([y[labelled], np.full(len(part), UNLABELLED, dtype=y.dtype)])
            yield self._batch(clean, targets)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_train={self.n_train}, n_labelled={self.n_labelled}, "
                f"n_test={self.n_test}, sample_shape={self.sample_shape}, batch_size={self.batch_size}, "
                f"labelled_batch_size={self.labelled_batch_size}, epochs={self.epochs})")
