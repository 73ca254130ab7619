"""Sliding windows over univariate or multivariate time series (NumPy or CSV).

A series (T,) or (T, F) is split in time order into training, validation and test parts;
per-feature normalisation is fitted on the training part only; each part is cut into windows
(N, window, F). Point labels (T,) of 0 (normal) / 1 (anomaly) become per-point window labels
(N, window) and per-window labels (N,) (1 when any point of the window is anomalous).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import NoiseableData
from accelbrainbase.core.validation import (
    check_array, check_binary_labels, check_choice, check_fraction, check_positive,
)
from accelbrainbase.data.iterators import ArrayIterator
from accelbrainbase.data.normalization import METHODS, Normalizer

SPLITS = ("train", "validation", "test")


def as_series(what: str, series: Any) -> np.ndarray:
    """A finite float32 series (T, F) from (T,) or (T, F); NaN and infinities are errors."""
    arr = check_array(what, series, ndim=(1, 2))
    return arr[:, None] if arr.ndim == 1 else arr


def sliding_windows(series: Any, window: int, stride: int = 1) -> np.ndarray:
    """Windows ``series[i*stride : i*stride + window]`` -> (N, window, F) (a copy);
    N = (T - window) // stride + 1. A window longer than the series is an error."""
    x = as_series("series", series)
    window = check_positive("window", window, integer=True)
    stride = check_positive("stride", stride, integer=True)
    if window > len(x):
        raise ShapeError(f"window {window} is longer than the series ({len(x)} points)")
    starts = np.arange(0, len(x) - window + 1, stride)
    return np.stack([x[s:s + window] for s in starts])


def window_point_labels(labels: Any, window: int, stride: int = 1) -> np.ndarray:
    """Point labels (T,) cut like :func:`sliding_windows` -> (N, window) int64."""
    y = check_binary_labels("labels", labels, both=False)
    if y.ndim != 1:
        raise ShapeError(f"labels must be one 0/1 value per time step (T,), got shape {y.shape}")
    return sliding_windows(y.astype(np.float32), window, stride)[..., 0].astype(np.int64)


class WindowIterator(ArrayIterator):
    """Mini-batches of sliding windows over a series; see the module docstring.

    ``series`` (T,) or (T, F); ``labels`` optional point labels (T,). The first
    ``1 - validation_size - test_size`` of the time axis is for training, then validation, then
    test (no window crosses a split). With labels and ``normal_only=True`` the training batches
    hold only windows without anomalies (EncDec-AD learns from normal data only). The held-out
    batches of ``learn`` are the validation windows. ``split(name)`` gives
    ``(windows, window_labels, point_labels)`` of "train", "validation" or "test".
    """

    def __init__(self, series: Any, labels: Any = None, *, window: int, stride: int = 1,
                 validation_size: float = 0.0, test_size: float = 0.0, normalize: Optional[str] = "zscore",
                 normal_only: bool = True, batch_size: int = 32, epochs: int = 10,
                 noiseable_data: NoiseableData | None = None, shuffle: bool = True, seed: int | None = None):
        x = as_series("series", series)
        self.window = check_positive("window", window, integer=True)
        self.stride = check_positive("stride", stride, integer=True)
        self.validation_size = check_fraction("validation_size", validation_size)
        test_size = check_fraction("test_size", test_size)
        if self.validation_size + test_size >= 1:
            raise InputError(f"validation_size + test_size must be < 1, got {validation_size} + {test_size}")
        normalize = None if normalize is None else check_choice("normalize", normalize, METHODS)
        if not isinstance(normal_only, bool):
            raise InputError(f"normal_only must be True or False, got {normal_only!r}")
        self.normal_only = normal_only
        y = None
        if labels is not None:
            y = check_binary_labels("labels", labels, both=False)
            if y.shape != (len(x),):
                raise ShapeError(f"labels must have one value per time step: expected shape ({len(x)},), "
                                 f"got {y.shape}")
        if self.window > len(x):
            raise ShapeError(f"window {self.window} is longer than the series ({len(x)} points)")
        n = len(x)
        n_test = int(round(test_size * n))
        n_val = int(round(self.validation_size * n))
        bounds = {"train": (0, n - n_val - n_test), "validation": (n - n_val - n_test, n - n_test),
                  "test": (n - n_test, n)}
        for name, (a, b) in bounds.items():
            if b > a and b - a < self.window:
                raise ShapeError(f"the {name} part has {b - a} points, fewer than the window {self.window}; "
                                 f"use a shorter window or a larger {name} fraction")
        normalizer = None
        if normalize is not None:
            normalizer = Normalizer(normalize).fit(x[slice(*bounds["train"])])
            x = normalizer.transform(x)
        self._splits: Dict[str, Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]] = {}
        for name, (a, b) in bounds.items():
            if b - a == 0:
                continue
            windows = sliding_windows(x[a:b], self.window, self.stride)
            points = None if y is None else window_point_labels(y[a:b], self.window, self.stride)
            self._splits[name] = (windows, None if points is None else points.max(axis=1), points)
        train, train_labels, _ = self._splits["train"]
        if train_labels is not None and normal_only:
            train = train[train_labels == 0]
            if len(train) == 0:
                raise InputError("every training window contains an anomaly; with normal_only=True there is "
                                 "nothing to learn from (use a shorter window or more normal data)")
        held_out = self._splits.get("validation", (None,))[0]
        super().__init__(train, test_x=held_out, batch_size=batch_size, epochs=epochs,
                         noiseable_data=noiseable_data, shuffle=shuffle, seed=seed)
        # the parent stored its own meaning of these names; ours are about the series
        self.test_size, self.normalize, self.normalizer_ = test_size, normalize, normalizer

    def split(self, name: str) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
        """``(windows (N, window, F), window labels (N,) or None, point labels (N, window) or None)``
        of all windows of a part (the training part includes windows with anomalies)."""
        check_choice("split", name, SPLITS)
        if name not in self._splits:
            raise InputError(f"there is no {name} part: set {name}_size > 0")
        return self._splits[name]

    @classmethod
    def from_csv(cls, path: str, *, label_column: int | str | None = None, header: int | str | None = "infer",
                 delimiter: str = ",", **kwargs: Any) -> "WindowIterator":
        """Windows over the rows of a CSV file (one row per time step, one column per feature;
        ``label_column`` holds 0/1 point labels)."""
        from accelbrainbase.data.extractors import CSVExtractor

        extractor = CSVExtractor(label_column=label_column, header=header, delimiter=delimiter)
        if label_column is None:
            return cls(extractor.extract(path), **kwargs)
        x, y = extractor.extract_labeled(path)
        if extractor.classes_ is not None:
            raise InputError(f"the label column of {path!r} must hold 0/1, got classes {extractor.classes_}")
        return cls(x, y, **kwargs)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v[0])}" for k, v in self._splits.items())
        return (f"{type(self).__name__}(window={self.window}, stride={self.stride}, windows: {parts}, "
                f"features={self.sample_shape[-1]}, normalize={self.normalize!r})")
