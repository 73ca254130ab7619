"""The ring of Gaussians (data/synthetic.py): the standard mode-collapse data set."""
from __future__ import annotations

import numpy as np
import pytest

from accelbrainbase.core.errors import InputError
from accelbrainbase.data import RingDataset, load_dataset, load_ring, ring_centers


def test_ring_centers_lie_evenly_on_the_circle():
    centers = ring_centers()
    assert centers.shape == (8, 2) and centers.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(centers[0], [2.0, 0.0])
    np.testing.assert_allclose(centers[2], [0.0, 2.0], atol=1e-6)
    gaps = np.linalg.norm(centers - np.roll(centers, 1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * 2.0 * np.sin(np.pi / 8), rtol=1e-6)


def test_load_ring_draws_balanced_seeded_modes():
    ring = load_ring()
    assert isinstance(ring, RingDataset) and ring.name == "ring"
    assert ring.x_train.shape == (4000, 2) and ring.x_test.shape == (1000, 2)
    assert ring.x_train.dtype == np.float32 and ring.y_train.dtype == np.int64
    assert ring.image_shape == (2,) and ring.n_features == 2 and ring.n_classes == 8 and ring.std == 0.02
    np.testing.assert_array_equal(np.bincount(ring.y_train), [500] * 8)
    np.testing.assert_array_equal(np.bincount(ring.y_test), [125] * 8)
    offsets = ring.x_train - ring.centers[ring.y_train]
    assert offsets.std() == pytest.approx(0.02, rel=0.05) and abs(offsets.mean()) < 0.002
    assert np.abs(offsets).max() < 6 * 0.02
    assert not np.array_equal(ring.y_train[:8], np.arange(8))  # shuffled
    again = load_ring()
    np.testing.assert_array_equal(again.x_train, ring.x_train)
    assert not np.array_equal(load_ring(seed=1).x_train, ring.x_train)
    np.testing.assert_array_equal(load_dataset("ring").x_test, ring.x_test)
    five = load_ring(n_train=50, n_test=10, modes=5, radius=1.0, std=0.1)
    assert five.centers.shape == (5, 2) and five.n_classes == 5 and five.std == 0.1


def test_ring_iterator_and_bad_arguments():
    batch = next(load_ring().iterator(batch_size=16, epochs=1, seed=0).generate_learned_samples())
    assert batch.inputs.shape == (16, 2) and batch.targets.shape == (16,)
    with pytest.raises(InputError, match="std must be > 0"):
        load_ring(std=0.0)
    with pytest.raises(InputError, match="modes must be an integer"):
        load_ring(modes=2.5)
