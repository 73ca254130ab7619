"""The console script: ``demo autoencoder`` and ``compare representation``."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from accelbrainbase.cli import main


def test_compare_representation_prints_one_table_and_writes_json(tmp_path, capsys, backend):
    name = backend.__name__.split(".")[-1]
    path = tmp_path / "rows.json"
    code = main(["compare", "representation", "--backends", name, "--epochs", "2", "--no-progress",
                 "--json", str(path), "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    for model in ("AutoEncoder", "DenoisingAutoEncoder", "StackedAutoEncoder", "PCA(16)", "mean image"):
        assert model in out
    rows = json.loads(path.read_text())
    assert {r["backend"] for r in rows} == {name, "sklearn", "numpy"}
    assert all(set(r) == {"model", "backend", "parameters", "train_seconds", "test_mse"} for r in rows)
    mean_image = next(r for r in rows if r["model"] == "mean image")["test_mse"]
    assert next(r for r in rows if r["model"] == "AutoEncoder")["test_mse"] < mean_image
    assert all(np.isfinite(r["test_mse"]) and r["parameters"] > 0 for r in rows)
    assert os.path.getsize(tmp_path / "representation-digits.png") > 1000


def test_demo_autoencoder_writes_pictures(tmp_path, capsys, backend):
    name = backend.__name__.split(".")[-1]
    code = main(["demo", "autoencoder", "--backend", name, "--epochs", "2", "--no-progress",
                 "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "AutoEncoder" in out and "PCA(16)" in out and "mean image" in out
    for picture in ("reconstructions.png", "loss.png"):
        assert os.path.getsize(tmp_path / picture) > 1000


def test_unknown_backend_is_a_clear_error(capsys):
    assert main(["compare", "representation", "--backends", "jax", "--epochs", "1"]) == 2
    assert "unknown backend 'jax'; valid: torch, mxnet" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "no-such-demo"])


def test_bad_epochs(capsys):
    assert main(["compare", "representation", "--epochs", "0"]) == 2


def test_demo_rbm_reports_likelihood_and_writes_pictures(tmp_path, capsys, backend):
    name = backend.__name__.split(".")[-1]
    assert main(["demo", "rbm", "--backend", name, "--epochs", "2", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "test log-likelihood" in out and "AIS log Z" in out and "reconstruction MSE" in out
    for picture in ("filters.png", "reconstructions.png", "samples.png", "loss.png"):
        assert os.path.getsize(tmp_path / picture) > 1000


def test_demo_dbm_reports_ais_and_lower_bound_and_writes_pictures(tmp_path, capsys, backend, monkeypatch):
    import functools

    from accelbrainbase.workbench import demos

    name = backend.__name__.split(".")[-1]
    # a shorter AIS run than the demo's 10,000 temperatures keeps the test fast
    monkeypatch.setattr(demos, "demo_dbm", functools.partial(demos.demo_dbm, ais_betas=500))
    assert main(["demo", "dbm", "--backend", name, "--epochs", "1", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "DBM 64-100-100" in out and "AIS log Z = " in out and "500 temperatures" in out
    assert "variational lower bound on log p(v)" in out and "nats/digit" in out and "reconstruction MSE" in out
    for picture in ("filters.png", "reconstructions.png", "samples.png", "loss.png"):
        assert os.path.getsize(tmp_path / picture) > 1000


def test_compare_classification_scores_test_accuracy(tmp_path, capsys, backend):
    name = backend.__name__.split(".")[-1]
    path = tmp_path / "rows.json"
    assert main(["compare", "classification", "--backends", name, "--epochs", "2", "--no-progress",
                 "--json", str(path), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ConvolutionalNeuralNetworks" in out and "NeuralNetworks (MLP)" in out and "logistic regression" in out
    rows = json.loads(path.read_text())
    assert all(set(r) == {"model", "backend", "parameters", "train_seconds", "test_accuracy"} for r in rows)
    assert all(r["test_accuracy"] > 0.5 for r in rows)  # ten classes: chance is 0.1
    assert os.path.getsize(tmp_path / "classification-digits.png") > 1000
