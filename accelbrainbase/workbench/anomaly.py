"""Anomaly detection: every registered detector learns from normal windows and is scored by
test ROC-AUC, and by precision, recall and F-beta at its threshold chosen on the labelled
validation split, next to scikit-learn baselines on flattened windows (PCA reconstruction
error with as many components as the detectors' code, IsolationForest)."""
from __future__ import annotations

import time
from typing import Dict, List

import numpy as np

from accelbrainbase.models.anomaly import best_fbeta_threshold, precision_recall_fbeta, roc_auc
from accelbrainbase.core.registry import models
from accelbrainbase.core.seeding import seed_everything
from accelbrainbase.data.sequence_datasets import SEQUENCE_DATASETS, SequenceDataset, load_sequence_dataset

COLUMNS = ("model", "backend", "parameters", "train_seconds", "test_roc_auc", "precision", "recall", "f0.1")
DATASETS = SEQUENCE_DATASETS
DEFAULT_DATA = "ecg5000"
PLOT_METRIC = "test_roc_auc"
PLOT_TITLE = "test ROC-AUC"
CODE_SIZE = 32
BETA = 0.1


def load_data(name: str) -> SequenceDataset:
    return load_sequence_dataset(name)


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def _row(model: str, backend: str, parameters: int, seconds: float, dataset: SequenceDataset,
         test_scores: np.ndarray, validation_scores: np.ndarray) -> Dict:
    """Scores -> ROC-AUC on test; threshold by F-beta on validation, applied to test."""
    threshold = best_fbeta_threshold(validation_scores, dataset.y_validation, BETA)["threshold"]
    precision, recall, fbeta = precision_recall_fbeta((test_scores >= threshold).astype(np.int64),
                                                      dataset.y_test, BETA)
    return {"model": model, "backend": backend, "parameters": int(parameters), "train_seconds": seconds,
            "test_roc_auc": roc_auc(test_scores, dataset.y_test), "precision": precision, "recall": recall,
            "f0.1": fbeta}


def baselines(dataset: SequenceDataset, code_size: int = CODE_SIZE, seed: int = 0) -> List[Dict]:
    """PCA reconstruction error (``code_size`` components, at most half the window's values) and
    IsolationForest, fitted on the normal training windows (flattened)."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest

    train = _flat(dataset.x_train)
    k = max(1, min(code_size, train.shape[1] // 2, len(train)))  # a compression, never the identity
    start = time.perf_counter()
    pca = PCA(n_components=k, random_state=seed).fit(train)
    seconds = time.perf_counter() - start

    def pca_error(x):
        x = _flat(x)
        return np.mean((pca.inverse_transform(pca.transform(x)) - x) ** 2, axis=1)

    start = time.perf_counter()
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(train)
    forest_seconds = time.perf_counter() - start
    n_nodes = sum(tree.tree_.node_count for tree in forest.estimators_)
    return [
        _row(f"PCA({k}) error", "sklearn", pca.components_.size + pca.mean_.size, seconds, dataset,
             pca_error(dataset.x_test), pca_error(dataset.x_validation)),
        _row("IsolationForest", "sklearn", n_nodes, forest_seconds, dataset,
             -forest.score_samples(_flat(dataset.x_test)), -forest.score_samples(_flat(dataset.x_validation))),
    ]


def run_model(cls, backend: str, dataset: SequenceDataset, *, code_size: int = CODE_SIZE, epochs: int = 40,
              seed: int = 0, progress: bool = True) -> Dict:
    """Fit one registered detector from its ``example`` configuration; score it on the test set."""
    import accelbrainbase as ab

    seed_everything(seed)
    detector = cls.example(dataset.n_features, code_size=code_size, epochs=epochs, batch_size=16,
                           optimizer=ab.OptimizerSpec("adam", learning_rate=5e-3))
    start = time.perf_counter()
    detector.fit(dataset.x_train, dataset.x_validation, dataset.y_validation,
                 normal_validation=dataset.x_normal_validation, progress=progress)
    seconds = time.perf_counter() - start
    row = _row(cls.__name__, backend, detector.n_parameters, seconds, dataset,
               detector.score(dataset.x_test), detector.score(dataset.x_validation))
    row["model_object"] = detector
    return row


def run(dataset: SequenceDataset, backends, *, epochs: int = 40, seed: int = 0, progress: bool = True,
        code_size: int = CODE_SIZE) -> List[Dict]:
    rows = []
    for backend in backends:
        for name, cls in sorted(models("anomaly-detection", backend).items()):
            rows.append(run_model(cls, backend, dataset, code_size=code_size, epochs=epochs, seed=seed,
                                  progress=progress))
    return rows + baselines(dataset, code_size=code_size, seed=seed)
