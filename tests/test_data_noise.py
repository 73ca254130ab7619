import json

import numpy as np
import pytest

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.data import CutoutNoise, GaussianNoise, MaskingNoise, SaltAndPepperNoise

ALL = [
    GaussianNoise(std=0.3, seed=0),
    MaskingNoise(fraction=0.3, seed=0),
    SaltAndPepperNoise(fraction=0.2, seed=0),
    CutoutNoise(size=3, image_shape=(8, 8), seed=0),
]


@pytest.fixture
def batch():
    return np.random.default_rng(1).uniform(0.2, 0.8, size=(50, 64)).astype(np.float32)


@pytest.mark.parametrize("noise", ALL, ids=lambda n: type(n).__name__)
def test_input_unchanged_and_new_float32_array(noise, batch):
    before = batch.copy()
    out = noise.noise(batch)
    np.testing.assert_array_equal(batch, before)
    assert out.dtype == np.float32 and out.shape == batch.shape
    assert not np.shares_memory(out, batch)
    assert (out != batch).any()


@pytest.mark.parametrize("noise", ALL, ids=lambda n: type(n).__name__)
def test_same_seed_same_noise_and_json_config(noise, batch):
    config = noise.get_config()
    json.dumps(config)
    again = type(noise)(**config)
    first = type(noise)(**config)
    np.testing.assert_array_equal(first.noise(batch), again.noise(batch))
    assert type(noise).__name__ in repr(noise) and "seed=0" in repr(noise)


def test_seed_none_follows_global_numpy_seed(batch):
    np.random.seed(5)
    a = GaussianNoise().noise(batch)
    np.random.seed(5)
    b = GaussianNoise().noise(batch)
    np.testing.assert_array_equal(a, b)


def test_gaussian_std_and_clip():
    x = np.zeros((200, 500), dtype=np.float32)
    out = GaussianNoise(std=0.5, seed=3).noise(x)
    assert abs(out.std() - 0.5) < 0.01 and abs(out.mean()) < 0.01
    clipped = GaussianNoise(std=0.5, clip=(0.0, 1.0), seed=3).noise(x)
    assert clipped.min() == 0.0 and clipped.max() <= 1.0
    with pytest.raises(InputError, match="low < high"):
        GaussianNoise(clip=(1, 0))
    with pytest.raises(InputError, match=">= 0"):
        GaussianNoise(std=-1)


def test_masking_zeroes_the_requested_fraction_per_sample():
    x = np.ones((40, 100), dtype=np.float32)
    out = MaskingNoise(fraction=0.25, seed=0).noise(x)
    assert set(np.unique(out)) == {0.0, 1.0}
    np.testing.assert_array_equal((out == 0).sum(axis=1), 25)
    # different entries in different samples
    assert len({tuple(np.flatnonzero(row == 0)) for row in out}) > 1
    with pytest.raises(InputError, match="fraction"):
        MaskingNoise(fraction=1.5)


def test_salt_and_pepper_only_low_or_high_where_changed():
    x = np.full((30, 200), 0.5, dtype=np.float32)
    out = SaltAndPepperNoise(fraction=0.1, low=-1.0, high=2.0, seed=0).noise(x)
    changed = out != 0.5
    np.testing.assert_array_equal(changed.sum(axis=1), 20)
    assert set(np.unique(out[changed])) == {-1.0, 2.0}
    assert 0.4 < (out[changed] == 2.0).mean() < 0.6
    with pytest.raises(InputError, match="low must be < high"):
        SaltAndPepperNoise(low=1.0, high=0.0)


def _zero_box(img):
    rows, cols = np.nonzero(img == 0)
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1, len(rows)


def test_cutout_zeroes_a_square_of_the_requested_size():
    x = np.ones((60, 1, 40, 40), dtype=np.float32)
    out = CutoutNoise(size=5, seed=0).noise(x)
    interior = 0
    for img in out[:, 0]:
        r0, r1, c0, c1, count = _zero_box(img)
        assert count == (r1 - r0) * (c1 - c0)  # one filled rectangle
        assert r1 - r0 <= 5 and c1 - c0 <= 5
        if 0 < r0 and r1 < 40 and 0 < c0 and c1 < 40:  # away from the border: the full square
            assert (r1 - r0, c1 - c0) == (5, 5)
            interior += 1
    assert interior > 40


def test_cutout_rectangle_channels_holes_and_fill():
    x = np.ones((10, 3, 30, 30), dtype=np.float32)
    out = CutoutNoise(size=(2, 6), fill=-1.0, seed=1).noise(x)
    # every channel gets the same hole
    np.testing.assert_array_equal(out[:, 0], out[:, 2])
    assert set(np.unique(out)) == {-1.0, 1.0}
    many = CutoutNoise(size=3, n_holes=4, seed=1).noise(np.ones((10, 30, 30), np.float32))
    assert ((many == 0).sum(axis=(1, 2)) > 9).any()


def test_cutout_flat_input_with_image_shape():
    x = np.ones((20, 3 * 16 * 16), dtype=np.float32)
    out = CutoutNoise(size=4, image_shape=(3, 16, 16), seed=0).noise(x)
    assert out.shape == x.shape
    images = out.reshape(20, 3, 16, 16)
    np.testing.assert_array_equal(images[:, 0], images[:, 1])
    assert ((images[:, 0] == 0).sum(axis=(1, 2)) <= 16).all()


def test_cutout_shape_errors():
    with pytest.raises(ShapeError, match="image_shape"):
        CutoutNoise(size=2).noise(np.ones((4, 64), np.float32))
    with pytest.raises(ShapeError, match=r"\(7, 7\) has 49 values per sample, got samples of shape \(64,\)"):
        CutoutNoise(size=2, image_shape=(7, 7)).noise(np.ones((4, 64), np.float32))
    with pytest.raises(InputError, match="image_shape"):
        CutoutNoise(image_shape=(8,))
    with pytest.raises(InputError, match="seed"):
        CutoutNoise(seed=-1)
