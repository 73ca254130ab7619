import numpy as np
import pytest

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.data import ArrayIterator, GaussianNoise, MaskingNoise, Normalizer


def ids_data(n=10, f=3):
    """Sample i has every feature equal to i, so batches reveal which samples they hold."""
    return np.repeat(np.arange(n, dtype=np.float32)[:, None], f, axis=1)


def epoch_ids(it):
    return [b.clean[:, 0].astype(int).tolist() for b in it.generate_learned_samples()]


def test_every_sample_once_last_partial_batch_kept_and_shuffled():
    it = ArrayIterator(ids_data(10), batch_size=4, seed=0)
    first, second = epoch_ids(it), epoch_ids(it)
    assert [len(b) for b in first] == [4, 4, 2] and len(it) == 3
    for epoch in (first, second):
        assert sorted(sum(epoch, [])) == list(range(10))
    assert sum(first, []) != sum(second, [])
    assert sum(first, []) != list(range(10))


def test_no_shuffle_keeps_order_and_seed_reproduces_order():
    it = ArrayIterator(ids_data(10), batch_size=4, shuffle=False)
    assert sum(epoch_ids(it), []) == list(range(10))
    a = ArrayIterator(ids_data(50), batch_size=8, seed=3)
    b = ArrayIterator(ids_data(50), batch_size=8, seed=3)
    assert epoch_ids(a) == epoch_ids(b)


def test_targets_follow_their_samples_and_dtypes():
    x = ids_data(20)
    y = np.arange(20)
    it = ArrayIterator(x, y, batch_size=6, seed=1)
    for batch in it.generate_learned_samples():
        assert batch.targets.dtype == np.int64 and batch.clean.dtype == np.float32
        np.testing.assert_array_equal(batch.clean[:, 0], batch.targets)
    reg = ArrayIterator(x, y.astype(np.float64), seed=1)
    assert reg.y_train.dtype == np.float32
    assert ArrayIterator(x).has_labels is False
    assert next(ArrayIterator(x).generate_learned_samples()).targets is None


def test_noise_only_on_inputs_clean_is_original():
    x = np.random.default_rng(0).random((30, 2, 4, 4), dtype=np.float32)
    it = ArrayIterator(x, batch_size=7, shuffle=False, noiseable_data=GaussianNoise(0.5, seed=0))
    assert it.sample_shape == (2, 4, 4)
    batches = list(it.generate_learned_samples())
    np.testing.assert_array_equal(np.concatenate([b.clean for b in batches]), x)
    assert all(np.abs(b.inputs - b.clean).mean() > 0.1 for b in batches)
    np.testing.assert_array_equal(it.x_train, x)
    plain = next(ArrayIterator(x).generate_learned_samples())
    assert plain.inputs is plain.clean


def test_explicit_test_data_in_order_with_noise():
    x, tx = ids_data(10), ids_data(5) + 100
    it = ArrayIterator(x, test_x=tx, batch_size=2, noiseable_data=MaskingNoise(0.5, seed=0))
    batches = list(it.generate_inferenced_samples())
    assert [b.clean[:, 0].tolist() for b in batches] == [[100, 101], [102, 103], [104]]
    assert all((b.inputs == 0).any() for b in batches)
    assert it.has_test and not it.has_labels
    assert list(ArrayIterator(x).generate_inferenced_samples()) == []


def test_test_size_split_is_stratified_and_disjoint():
    x = ids_data(100)
    y = np.repeat([0, 1, 2, 3], [40, 30, 20, 10])
    it = ArrayIterator(x, y, test_size=0.2, seed=0)
    assert it.n_train == 80 and len(it.x_test) == 20 and it.n_test == 20
    np.testing.assert_array_equal(np.bincount(it.y_test), [8, 6, 4, 2])
    assert set(it.x_train[:, 0]).isdisjoint(it.x_test[:, 0])
    assert (np.diff(it.x_test[:, 0]) > 0).all()  # held-out samples keep their original order
    np.testing.assert_array_equal(y[it.x_test[:, 0].astype(int)], it.y_test)
    again = ArrayIterator(x, y, test_size=0.2, seed=0)
    np.testing.assert_array_equal(again.x_test, it.x_test)
    unlabelled = ArrayIterator(x, test_size=0.25, seed=0)
    assert (unlabelled.n_train, unlabelled.n_test) == (75, 25)


def test_normalisation_fitted_on_training_part_only():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, size=(200, 4)).astype(np.float32)
    tx = rng.normal(9.0, 3.0, size=(50, 4)).astype(np.float32)
    it = ArrayIterator(x, test_x=tx, normalize="zscore")
    np.testing.assert_allclose(it.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(it.x_train.std(axis=0), 1, atol=1e-4)
    assert (it.x_test.mean(axis=0) > 1.5).all()  # test data scaled with training statistics
    np.testing.assert_allclose(it.normalizer_.inverse_transform(it.x_test), tx, rtol=1e-5)
    mm = ArrayIterator(x, test_size=0.3, normalize="minmax", seed=0)
    assert mm.x_train.min() == 0 and mm.x_train.max() == 1
    raw_train = mm.normalizer_.inverse_transform(mm.x_train)
    np.testing.assert_allclose(mm.normalizer_.offset_, raw_train.min(axis=0), rtol=1e-6)
    assert not np.allclose(mm.normalizer_.offset_, x.min(axis=0))  # the test part's minimum was not used
    assert isinstance(mm.normalizer_, Normalizer)


def test_normalizer_constant_feature_and_errors():
    x = np.array([[1.0, 3.0], [1.0, 5.0]], dtype=np.float32)
    for method in ("minmax", "zscore"):
        out = Normalizer(method).fit_transform(x)
        assert np.isfinite(out).all() and (out[:, 0] == 0).all()
    scalar = Normalizer("minmax", per_feature=False).fit(x)
    assert scalar.offset_.shape == () and scalar.scale_ == 4
    with pytest.raises(InputError, match="valid: minmax, zscore"):
        Normalizer("l2")
    with pytest.raises(ShapeError, match=r"expected \(2,\)"):
        Normalizer().fit(x).transform(np.ones((3, 5)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(x=np.array([[1.0, np.nan]])), InputError, "NaN"),
        (dict(x=np.zeros((0, 3))), InputError, "empty"),
        (dict(x=np.zeros(5)), ShapeError, "at least 2 dimensions"),
        (dict(x=np.zeros((5, 3)), y=np.zeros(4, dtype=int)), ShapeError, "y has 4 samples but x has 5"),
        (dict(x=np.zeros((5, 3)), test_x=np.zeros((2, 4))), ShapeError, r"shape \(4,\), expected \(3,\)"),
        (dict(x=np.zeros((5, 3)), test_x=np.zeros((2, 3)), test_size=0.2), InputError, "not both"),
        (dict(x=np.zeros((5, 3)), y=np.zeros(5, dtype=int), test_x=np.zeros((2, 3))), InputError, "test_y"),
        (dict(x=np.zeros((5, 3)), batch_size=0), InputError, "batch_size must be > 0"),
        (dict(x=np.zeros((5, 3)), epochs=2.5), InputError, "epochs must be an integer"),
        (dict(x=np.zeros((5, 3)), test_size=1.0), InputError, "test_size must be < 1"),
        (dict(x=np.zeros((5, 3)), normalize="l2"), InputError, "valid: minmax, zscore"),
        (dict(x=np.zeros((5, 3)), y=np.array(list("abcde"))), InputError, "numeric"),
        (dict(x=np.zeros((5, 3)), noiseable_data="gauss"), InputError, "noise"),
    ],
)
def test_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        ArrayIterator(**kwargs)


def test_repr_is_readable():
    text = repr(ArrayIterator(ids_data(10), test_size=0.2, seed=0))
    assert "ArrayIterator(n_train=8, n_test=2" in text
