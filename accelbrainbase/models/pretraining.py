"""Greedy layer-wise pre-training helpers shared by the stacked auto-encoder, the deep belief
network and the deep Boltzmann machine: each layer model learns through the same loop."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from accelbrainbase.core.interfaces import IteratableData


def pretraining_arrays(data: IteratableData) -> Tuple[np.ndarray, Optional[np.ndarray], int]:
    """The clean training samples and held-out samples of ``data`` as arrays, and its batch size."""
    train = np.concatenate([b.clean for b in data.generate_learned_samples()])
    test_batches = [b.clean for b in data.generate_inferenced_samples()]
    test = np.concatenate(test_batches) if test_batches else None
    return train, test, int(getattr(data, "batch_size", 32))


def learn_layer(model, train: np.ndarray, test: Optional[np.ndarray], batch_size: int, epochs: int):
    """Train one layer model on arrays (seeded from NumPy's global generator); return its history."""
    from accelbrainbase.data.iterators import ArrayIterator

    model.learn(ArrayIterator(train, test_x=test, batch_size=batch_size, epochs=epochs,
                              seed=int(np.random.randint(2**31))), progress=False)
    return model.history
