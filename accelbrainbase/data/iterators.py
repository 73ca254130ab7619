"""Mini-batch iterators over NumPy arrays, CSV files and image folders."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import Batch, IteratableData, NoiseableData
from accelbrainbase.core.validation import check_array, check_choice, check_fraction, check_positive, check_same_length
from accelbrainbase.data._common import check_seed, make_rng
from accelbrainbase.data.extractors import CSVExtractor, ImageExtractor
from accelbrainbase.data.normalization import METHODS, Normalizer
from accelbrainbase.data.splitting import split_indices


@contextmanager
def _naming(where: str) -> Iterator[None]:
    """Add ``where`` (the files the arrays came from) to an :class:`InputError` raised inside."""
    try:
        yield
    except InputError as exc:
        if type(exc) not in (InputError, ShapeError):
            raise
        raise type(exc)(f"{exc} ({where})") from exc


def _targets(what: str, y: Any) -> np.ndarray:
    """Labels as int64 (integers, bools) or regression targets as float32, checked finite."""
    arr = np.asarray(y)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise InputError(f"{what} must be numeric (int labels or float targets), got dtype {arr.dtype}")
    if arr.dtype.kind in "iub":
        return check_array(what, arr, dtype=np.int64)
    return check_array(what, arr, dtype=np.float32)


class ArrayIterator(IteratableData):
    """Shuffled mini-batches of ``x`` (N, ...) with optional targets ``y`` (N, ...).

    Held-out data is either ``test_x``/``test_y`` or a seeded ``test_size`` fraction of ``x``
    (stratified when ``y`` holds integer labels). ``normalize`` ("minmax" or "zscore") is fitted
    on the training part only (``normalizer_``). Batches are ``Batch(inputs, clean, targets)``
    with ``inputs = noiseable_data.noise(clean)``; treat them as read-only (they may be views).
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        *,
        test_x: Any = None,
        test_y: Any = None,
        test_size: float = 0.0,
        batch_size: int = 32,
        epochs: int = 10,
        noiseable_data: NoiseableData | None = None,
        shuffle: bool = True,
        normalize: str | None = None,
        seed: int | None = None,
    ):
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        self.epochs = check_positive("epochs", epochs, integer=True)
        if noiseable_data is not None and not callable(getattr(noiseable_data, "noise", None)):
            raise InputError(f"noiseable_data must be None or have a noise(arr) method, got {noiseable_data!r}")
        self.noiseable_data = noiseable_data
        if not isinstance(shuffle, (bool, np.bool_)):
            raise InputError(f"shuffle must be True or False, got {shuffle!r}")
        self.shuffle = bool(shuffle)
        self.normalize = None if normalize is None else check_choice("normalize", normalize, METHODS)
        self.test_size = check_fraction("test_size", test_size)
        self.seed = check_seed(seed)
        self._rng = make_rng(self.seed)

        x = check_array("x", x)
        if x.ndim < 2:
            raise ShapeError(f"x must have shape (N, ...) with at least 2 dimensions, got shape {x.shape}")
        y = None if y is None else _targets("y", y)
        if y is not None:
            check_same_length("x", x, "y", y)
        x_test = y_test = None
        if test_x is not None or test_y is not None:
            if self.test_size > 0:
                raise InputError(f"pass either test_x/test_y or test_size, not both (got test_size={test_size})")
            if test_x is None:
                raise InputError("test_y was given without test_x")
            if (y is None) != (test_y is None):
                raise InputError("test_y must be given exactly when y is given (labelled train and test data)")
            x_test = check_array("test_x", test_x)
            if x_test.shape[1:] != x.shape[1:]:
                raise ShapeError(
                    f"test_x samples have shape {x_test.shape[1:]}, expected {x.shape[1:]} as in x"
                )
            if test_y is not None:
                y_test = _targets("test_y", test_y)
                check_same_length("test_x", x_test, "test_y", y_test)
                if y_test.shape[1:] != y.shape[1:]:
                    raise ShapeError(f"test_y has per-sample shape {y_test.shape[1:]}, expected {y.shape[1:]} as in y")
        elif self.test_size > 0:
            if len(x) < 2:
                raise InputError(f"test_size needs at least 2 samples to split, got {len(x)}")
            stratify = y if y is not None and y.ndim == 1 and y.dtype == np.int64 else None
            train_idx, test_idx = split_indices(len(x), self.test_size, self._rng, stratify)
            x, x_test = x[train_idx], x[test_idx]
            if y is not None:
                y, y_test = y[train_idx], y[test_idx]

        self.normalizer_ = None
        if self.normalize is not None:
            self.normalizer_ = Normalizer(self.normalize).fit(x)
            x = self.normalizer_.transform(x)
            if x_test is not None:
                x_test = self.normalizer_.transform(x_test)
        self.x_train, self.y_train, self.x_test, self.y_test = x, y, x_test, y_test

    @property
    def sample_shape(self) -> tuple:
        return self.x_train.shape[1:]

    @property
    def has_labels(self) -> bool:
        return self.y_train is not None

    @property
    def has_test(self) -> bool:
        return self.x_test is not None

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_test(self) -> int:
        return 0 if self.x_test is None else len(self.x_test)

    def __len__(self) -> int:
        return -(-self.n_train // self.batch_size)

    def _batch(self, clean: np.ndarray, targets: np.ndarray | None) -> Batch:
        inputs = clean if self.noiseable_data is None else self.noiseable_data.noise(clean)
        return Batch(inputs, clean, targets)

    def generate_learned_samples(self) -> Iterator[Batch]:
        """One epoch: every training sample once (new permutation per call), last batch kept."""
        x, y, size = self.x_train, self.y_train, self.batch_size
        order = self._rng.permutation(len(x)) if self.shuffle else None
        for start in range(0, len(x), size):
            if order is None:
                part = slice(start, start + size)
            else:
                part = order[start : start + size]
            yield self._batch(x[part], None if y is None else y[part])

    def generate_inferenced_samples(self) -> Iterator[Batch]:
        """The held-out batches in order (noise on inputs, as in training); nothing without test data."""
        if self.x_test is None:
            return
        x, y, size = self.x_test, self.y_test, self.batch_size
        for start in range(0, len(x), size):
            part = slice(start, start + size)
            yield self._batch(x[part], None if y is None else y[part])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_train={self.n_train}, n_test={self.n_test}, "
            f"sample_shape={self.sample_shape}, labels={self.has_labels}, batch_size={self.batch_size}, "
            f"epochs={self.epochs}, shuffle={self.shuffle}, normalize={self.normalize!r}, "
            f"noiseable_data={self.noiseable_data!r})"
        )


class CSVIterator(ArrayIterator):
    """An :class:`ArrayIterator` over a CSV file (and an optional test file) read by
    :class:`CSVExtractor` (``header``, ``delimiter`` and ``encoding`` as there); string labels
    become ``0..K-1`` (names in ``classes_``). Errors about the data name the files."""

    def __init__(
        self,
        path: str,
        *,
        label_column: int | str | None = None,
        test_path: str | None = None,
        header: int | str | None = "infer",
        delimiter: str = ",",
        encoding: str = "utf-8",
        **array_iterator_kwargs: Any,
    ):
        extractor = CSVExtractor(label_column=label_column, header=header, delimiter=delimiter, encoding=encoding)
        self.path, self.test_path = path, test_path
        x = y = test_x = test_y = None
        if label_column is None:
            x = extractor.extract(path)
            if test_path is not None:
                test_x = extractor.extract(test_path)
        else:
            x, y = extractor.extract_labeled(path)
            if test_path is not None:
                test_x, test_y = extractor.extract_labeled(test_path, classes=extractor.classes_)
        self.classes_ = extractor.classes_
        where = f"data read from {str(path)!r}" + ("" if test_path is None else f" and {str(test_path)!r}")
        with _naming(where):
            super().__init__(x, y, test_x=test_x, test_y=test_y, **array_iterator_kwargs)


class ImageFolderIterator(ArrayIterator):
    """An :class:`ArrayIterator` over images (N, C, H, W) read by :class:`ImageExtractor`.

    With ``labels=True`` ``root`` holds one sub-folder per class (names in ``classes_``);
    otherwise all images directly in ``root`` are read without labels.
    """

    def __init__(
        self,
        root: str,
        *,
        size: tuple[int, int] | None = (28, 28),
        mode: str = "L",
        labels: bool = True,
        test_root: str | None = None,
        normalize: str | None = "minmax",
        **array_iterator_kwargs: Any,
    ):
        extractor = ImageExtractor(size=size, mode=mode)
        self.root, self.test_root = root, test_root
        y = test_x = test_y = None
        self.classes_: list[str] | None = None
        if labels:
            x, y, self.classes_ = extractor.extract_folder(root)
            if test_root is not None:
                test_x, test_y, test_classes = extractor.extract_folder(test_root)
                unknown = sorted(set(test_classes) - set(self.classes_))
                if unknown:
                    raise InputError(
                        f"test_root has class folders {unknown} not in root; expected a subset of {self.classes_}"
                    )
                remap = np.array([self.classes_.index(c) for c in test_classes], dtype=np.int64)
                test_y = remap[test_y]
        else:
            x = extractor.extract(root)
            if test_root is not None:
                test_x = extractor.extract(test_root)
        x = x[None] if x.ndim == 3 else x  # a single image file
        test_x = test_x[None] if test_x is not None and test_x.ndim == 3 else test_x
        where = f"images read from {str(root)!r}" + ("" if test_root is None else f" and {str(test_root)!r}")
        with _naming(where):
            super().__init__(x, y, test_x=test_x, test_y=test_y, normalize=normalize, **array_iterator_kwargs)
