"""The console script for sequences: ``compare anomaly-detection`` and ``demo encdec-ad``."""
from __future__ import annotations

import json
import os


from accelbrainbase.cli import main
from accelbrainbase.workbench.anomaly import COLUMNS


def test_compare_anomaly_detection_prints_one_table(tmp_path, capsys, backend):
    name = backend.__name__.split(".")[-1]
    path = tmp_path / "rows.json"
    code = main(["compare", "anomaly-detection", "--data", "synthetic", "--backends", name, "--epochs", "2",
                 "--no-progress", "--json", str(path), "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    for model in ("EncDecAD", "PCA(10) error", "IsolationForest", "test_roc_auc", "f0.1"):
        assert model in out
    rows = json.loads(path.read_text())
    assert {r["backend"] for r in rows} == {name, "sklearn"}
    assert all(set(r) == set(COLUMNS) for r in rows)
    assert all(0 <= r["test_roc_auc"] <= 1 and 0 <= r["f0.1"] <= 1 and r["parameters"] > 0 for r in rows)
    assert os.path.getsize(tmp_path / "anomaly-detection-synthetic.png") > 1000


def test_demo_encdec_ad_reports_and_plots(tmp_path, capsys, backend):
    name = backend.__name__.split(".")[-1]
    assert main(["demo", "encdec-ad", "--backend", name, "--epochs", "2", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ECG5000" in out and "threshold" in out and "test_roc_auc" in out and "precision" in out
    for picture in ("scores.png", "loss.png"):
        assert os.path.getsize(tmp_path / picture) > 1000


def test_wrong_data_for_the_setting_is_a_clear_error(capsys):
    assert main(["compare", "anomaly-detection", "--data", "digits", "--epochs", "1"]) == 2
    assert "unknown sequence dataset 'digits'; valid: ecg5000, synthetic" in capsys.readouterr().err
