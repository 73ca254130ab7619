"""Representation learning: every registered model encodes to the same code size and is scored
by test reconstruction MSE next to PCA with that many components and the mean-image predictor."""
from __future__ import annotations

import time
from typing import Dict, List

import numpy as np

from accelbrainbase.core.registry import models
from accelbrainbase.core.seeding import seed_everything
from accelbrainbase.data.datasets import Dataset

COLUMNS = ("model", "backend", "parameters", "train_seconds", "test_mse")


def baselines(dataset: Dataset, code_size: int) -> List[Dict]:
    """PCA with ``code_size`` components and the mean-image predictor, fitted on training data."""
    from sklearn.decomposition import PCA

    x_train, x_test = dataset.x_train, dataset.x_test
    start = time.perf_counter()
    pca = PCA(n_components=code_size, random_state=0).fit(x_train)
    seconds = time.perf_counter() - start
    reconstruction = pca.inverse_transform(pca.transform(x_test))
    mean = x_train.mean(axis=0)
    return [
        {"model": f"PCA({code_size})", "backend": "sklearn",
         "parameters": int(pca.components_.size + pca.mean_.size), "train_seconds": seconds,
         "test_mse": float(np.mean((reconstruction - x_test) ** 2))},
        {"model": "mean image", "backend": "numpy", "parameters": int(mean.size),
         "train_seconds": 0.0, "test_mse": float(np.mean((mean - x_test) ** 2))},
    ]


def run_model(cls, backend: str, dataset: Dataset, *, code_size: int, epochs: int,
              batch_size: int, seed: int, progress: bool) -> Dict:
    """Train one registered model from its ``example`` configuration; score it on the test set."""
    seed_everything(seed)
    if getattr(cls, "sequence_input", False):  # images as sequences of rows: (N, H, W)
        from accelbrainbase.data.iterators import ArrayIterator

        rows = (-1,) + tuple(dataset.image_shape[-2:])
        model = cls.example(dataset.image_shape[-1], code_size=code_size)
        data = ArrayIterator(dataset.x_train.reshape(rows), test_x=dataset.x_test.reshape(rows),
                             batch_size=batch_size, epochs=epochs, seed=seed)
        x_test = dataset.x_test.reshape(rows)
    else:
        model = cls.example(dataset.n_features, code_size=code_size)
        data = dataset.iterator(batch_size=batch_size, epochs=epochs, seed=seed, labels=False)
        x_test = dataset.x_test
    start = time.perf_counter()
    model.learn(data, progress=progress)
    seconds = time.perf_counter() - start
    reconstruction = model.inference(x_test)
    return {"model": cls.__name__, "backend": backend, "parameters": model.n_parameters,
            "train_seconds": seconds,
            "test_mse": float(np.mean((reconstruction - x_test) ** 2)),
            "model_object": model}


def run(dataset: Dataset, backends, *, code_size: int = 16, epochs: int = 30, batch_size: int = 32,
        seed: int = 0, progress: bool = True) -> List[Dict]:
    rows = []
    for backend in backends:
        for name, cls in sorted(models("representation", backend).items()):
            rows.append(run_model(cls, backend, dataset, code_size=code_size, epochs=epochs,
                                  batch_size=batch_size, seed=seed, progress=progress))
    return rows + baselines(dataset, code_size)
