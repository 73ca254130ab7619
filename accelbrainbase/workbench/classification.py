"""Classification: every model registered for ``classification`` and a dense MLP learn the same
labelled images (flat input) and are scored by test accuracy, next to logistic regression."""
from __future__ import annotations

import time
from typing import Dict, List

import numpy as np

from accelbrainbase.core.backends import get_backend
from accelbrainbase.core.registry import models
from accelbrainbase.core.seeding import seed_everything
from accelbrainbase.data.datasets import Dataset

COLUMNS = ("model", "backend", "parameters", "train_seconds", "test_accuracy")
DEFAULT_DATA = "digits"
PLOT_METRIC = "test_accuracy"
PLOT_TITLE = "test accuracy"


def _score(name: str, backend: str, model, dataset: Dataset, epochs: int, seed: int,
           progress: bool) -> Dict:
    data = dataset.iterator(batch_size=32, epochs=epochs, seed=seed)
    start = time.perf_counter()
    model.learn(data, progress=progress)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.inference(dataset.x_test).argmax(axis=1) == dataset.y_test))
    return {"model": name, "backend": backend, "parameters": model.n_parameters,
            "train_seconds": seconds, "test_accuracy": accuracy}


def run(dataset: Dataset, backends, *, epochs: int = 30, seed: int = 0, progress: bool = True) -> List[Dict]:
    rows = []
    for backend in backends:
        builders = {name: (lambda cls=cls: cls.example(dataset.n_features, code_size=dataset.n_classes))
                    for name, cls in models("classification", backend).items()}
        network = get_backend(backend).NeuralNetworks
        builders["NeuralNetworks (MLP)"] = lambda: network([dataset.n_features, 64, dataset.n_classes],
                                                           loss="cross_entropy")
        for name, build in sorted(builders.items()):
            seed_everything(seed)
            rows.append(_score(name, backend, build(), dataset, epochs, seed, progress))
    return rows + [baseline(dataset)]


def baseline(dataset: Dataset) -> Dict:
    """Multinomial logistic regression on the pixels (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    model = LogisticRegression(max_iter=2000).fit(dataset.x_train, dataset.y_train)
    seconds = time.perf_counter() - start
    return {"model": "logistic regression", "backend": "sklearn",
            "parameters": int(model.coef_.size + model.intercept_.size), "train_seconds": seconds,
            "test_accuracy": float(model.score(dataset.x_test, dataset.y_test))}
