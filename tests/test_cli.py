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
    assert all(r["test_accuracy"] > 0.25 for r in rows)  # ten classes: chance is 0.1; deep ones learn slower
    assert all(r["test_accuracy"] > 0.5 for r in rows if r["model"] in ("ConvolutionalNeuralNetworks",
                                                                       "NeuralNetworks (MLP)", "logistic regression"))
    assert os.path.getsize(tmp_path / "classification-digits.png") > 1000


def test_demo_cae_prints_each_model_and_writes_the_grid(tmp_path, capsys, backend):
    from accelbrainbase.data import load_digits

    name = backend.__name__.split(".")[-1]
    assert main(["demo", "cae", "--backend", name, "--epochs", "2", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    mse = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[-4] in (name, "sklearn", "numpy"):  # model backend params s mse
            mse[" ".join(fields[:-4])] = float(fields[-1])
    assert set(mse) == {"ConvolutionalAutoEncoder", "ContractiveConvolutionalAutoEncoder",
                        "RepellingConvolutionalAutoEncoder", "PCA(16)", "mean image"}
    digits = load_digits()
    assert mse["mean image"] == pytest.approx(np.mean((digits.x_train.mean(0) - digits.x_test) ** 2), abs=1e-5)
    assert all(0 < v < 1 for v in mse.values())
    assert mse["ConvolutionalAutoEncoder"] < mse["mean image"]  # learns within two epochs
    picture = tmp_path / "reconstructions.png"
    assert f"picture: {picture}" in out and os.path.getsize(picture) > 1000
    from PIL import Image

    width, height = Image.open(picture).size
    assert height > width / 4  # four rows of twelve digits (two rows would be about width / 5)


def test_compare_classification_with_few_labels_lists_the_ladder_and_its_supervised_twin(tmp_path, capsys):
    pytest.importorskip("torch")
    path = tmp_path / "rows.json"
    assert main(["compare", "classification", "--labels-per-class", "10", "--backends", "torch", "--epochs", "1",
                 "--no-progress", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "10 labels per class (100 of 1437 training samples labelled)" in out
    rows = {r["model"]: r for r in json.loads(path.read_text())}
    for name in ("LadderNetworks", "ConvolutionalLadderNetworks"):
        assert f"{name} (semi-supervised)" in rows and f"{name} (supervised only)" in rows
    assert "ConvolutionalNeuralNetworks (labelled only)" in rows
    assert "logistic regression (labelled only)" in rows and "NeuralNetworks (MLP, labelled only)" in rows
    assert all(0.0 <= r["test_accuracy"] <= 1.0 for r in rows.values())
    assert main(["compare", "representation", "--labels-per-class", "10", "--epochs", "1"]) == 2
    assert "classification setting only" in capsys.readouterr().err
    assert main(["compare", "classification", "--labels-per-class", "0", "--epochs", "1"]) == 2
