"""Classification: every model registered for ``classification`` and a dense MLP learn the same
labelled images (flat input) and are scored by test accuracy, next to logistic regression.

With ``labels_per_class`` k (semi-supervised setting) only k labels per class of the training
set are kept (:func:`split_labelled`, seeded); each semi-supervised model (``accepts_unlabelled``,
the ladder networks) learns from all training images with the rest marked -1 (batches of 32
labelled + 32 unlabelled, :class:`SemiSupervisedIterator`) and appears next to the same network
with all denoising weights 0 trained on the labelled part only ("supervised only"); every other
model, the MLP and logistic regression learn from the labelled part only. The labelled part is
repeated to the training set's size, so every network gets the same number of updates per epoch.
Test accuracy is always on the full test set."""
from __future__ import annotations

import time
from typing import Dict, List, Optional

import numpy as np

from accelbrainbase.core.backends import get_backend
from accelbrainbase.core.registry import models
from accelbrainbase.core.seeding import seed_everything
from accelbrainbase.data.datasets import Dataset
from accelbrainbase.data.iterators import ArrayIterator
from accelbrainbase.data.semisupervised import SemiSupervisedIterator, split_labelled

COLUMNS = ("model", "backend", "parameters", "train_seconds", "test_accuracy")
DEFAULT_DATA = "digits"
PLOT_METRIC = "test_accuracy"
PLOT_TITLE = "test accuracy"


def _score(name: str, backend: str, model, dataset: Dataset, epochs: int, seed: int,
           progress: bool, data=None) -> Dict:
    data = data if data is not None else dataset.iterator(batch_size=32, epochs=epochs, seed=seed)
    start = time.perf_counter()
    model.learn(data, progress=progress)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.inference(dataset.x_test).argmax(axis=1) == dataset.y_test))
    return {"model": name, "backend": backend, "parameters": model.n_parameters,
            "train_seconds": seconds, "test_accuracy": accuracy}


def run(dataset: Dataset, backends, *, epochs: int = 30, seed: int = 0, progress: bool = True,
        labels_per_class: Optional[int] = None) -> List[Dict]:
    if labels_per_class is not None:
        return run_semisupervised(dataset, backends, labels_per_class, epochs=epochs, seed=seed, progress=progress)
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


def run_semisupervised(dataset: Dataset, backends, labels_per_class: int, *, epochs: int = 30, seed: int = 0,
                       progress: bool = True) -> List[Dict]:
    """The semi-supervised comparison (see the module docstring)."""
    labels = split_labelled(dataset.y_train, labels_per_class, seed=seed)
    keep = labels >= 0
    repeat = -(-len(labels) // int(keep.sum()))
    x_lab, y_lab = np.tile(dataset.x_train[keep], (repeat, 1)), np.tile(labels[keep], repeat)

    def labelled_only():
        return ArrayIterator(x_lab, y_lab, test_x=dataset.x_test, test_y=dataset.y_test, batch_size=32,
                             epochs=epochs, seed=seed)

    rows = []
    for backend in backends:
        for name, cls in sorted(models("classification", backend).items()):
            seed_everything(seed)
            model = cls.example(dataset.n_features, code_size=dataset.n_classes)
            if not getattr(cls, "accepts_unlabelled", False):
                rows.append(_score(f"{name} (labelled only)", backend, model, dataset, epochs, seed, progress,
                                   labelled_only()))
                continue
            data = SemiSupervisedIterator(dataset.x_train, labels, test_x=dataset.x_test, test_y=dataset.y_test,
                                          batch_size=32, epochs=epochs, seed=seed)
            rows.append(_score(f"{name} (semi-supervised)", backend, model, dataset, epochs, seed, progress, data))
            seed_everything(seed)
            twin = model.clone(denoising_weights=[0.0] * len(model.denoising_weights))
            rows.append(_score(f"{name} (supervised only)", backend, twin, dataset, epochs, seed, progress,
                               labelled_only()))
        seed_everything(seed)
        network = get_backend(backend).NeuralNetworks([dataset.n_features, 64, dataset.n_classes],
                                                      loss="cross_entropy")
        rows.append(_score("NeuralNetworks (MLP, labelled only)", backend, network, dataset, epochs, seed,
                           progress, labelled_only()))
    row = baseline(dataset, dataset.x_train[keep], dataset.y_train[keep])
    return rows + [{**row, "model": "logistic regression (labelled only)"}]


def baseline(dataset: Dataset, x_train=None, y_train=None) -> Dict:
    """Multinomial logistic regression on the pixels (scikit-learn), by default on the whole
    training set."""
    from sklearn.linear_model import LogisticRegression

    x_train = dataset.x_train if x_train is None else x_train
    y_train = dataset.y_train if y_train is None else y_train
    start = time.perf_counter()
    model = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    seconds = time.perf_counter() - start
    return {"model": "logistic regression", "backend": "sklearn",
            "parameters": int(model.coef_.size + model.intercept_.size), "train_seconds": seconds,
            "test_accuracy": float(model.score(dataset.x_test, dataset.y_test))}
