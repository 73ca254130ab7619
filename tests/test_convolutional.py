"""Convolutional family against the math (Jacobian norm, pulling-away term), on real data
(digits 8x8), and its checks; both backends."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.convolutional import image_shape_for, pulling_away_term
from accelbrainbase.data import ArrayIterator, load_digits


def to_numpy(value):
    return value.asnumpy() if hasattr(value, "asnumpy") else value.detach().cpu().numpy()


def finite_difference_jacobian_norms(model, x, eps=1e-3):
    """||d code / d x||_F^2 per sample by central differences of the encoder (float64 sums)."""
    norms = np.zeros(len(x))
    for i in range(x.shape[1]):
        up, down = x.copy(), x.copy()
        up[:, i] += eps
        down[:, i] -= eps
        column = (model.extract_feature_points(up).astype(np.float64)
                  - model.extract_feature_points(down)) / (2 * eps)
        norms += (column ** 2).sum(axis=1)
    return norms


@pytest.mark.parametrize("name,kwargs", [
    ("ContractiveAutoEncoder", dict(hidden=(), code_activation="sigmoid")),  # closed form
    ("ContractiveAutoEncoder", dict(hidden=(8,), activation="tanh", code_activation="sigmoid")),
    ("ContractiveConvolutionalAutoEncoder", dict(hidden=(3, 4), activation="softplus", code_activation="tanh")),
])
def test_contractive_penalty_is_the_jacobian_norm(backend, name, kwargs):
    ab.seed_everything(0)
    model = getattr(backend, name).example(12, code_size=4, contraction=0.5, **kwargs)
    x = np.random.default_rng(0).random((5, 12)).astype(np.float32)
    norms = model.jacobian_norms(model._tensor(x))
    norms = to_numpy(norms)
    np.testing.assert_allclose(norms, finite_difference_jacobian_norms(model, x), rtol=2e-3)
    if backend.__name__.endswith("torch"):  # and against autograd's Jacobian
        import torch

        for i in range(len(x)):
            jac = torch.autograd.functional.jacobian(lambda v: model.encoder(v[None])[0], torch.tensor(x[i]))
            assert norms[i] == pytest.approx(float(jac.square().sum()), rel=1e-5)
    penalty = model.penalty(ab.Batch(model._tensor(x), model._tensor(x)), None)
    assert float(to_numpy(penalty).sum()) == pytest.approx(0.5 * norms.mean(), rel=1e-5)


def test_pulling_away_term_is_its_definition(backend):
    model = backend.RepellingConvolutionalAutoEncoder.example(12, code_size=4, hidden=(2,))
    codes = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    expected = sum((unit[i] @ unit[j]) ** 2 for i in range(6) for j in range(6) if i != j) / (6 * 5)
    got = float(to_numpy(pulling_away_term(model.ops, model._tensor(codes))).sum())
    assert got == pytest.approx(expected, rel=1e-5)
    orthogonal = np.eye(4, dtype=np.float32) * 3.0
    assert float(to_numpy(pulling_away_term(model.ops, model._tensor(orthogonal))).sum()) == pytest.approx(0.0, abs=1e-7)
    same = np.ones((3, 4), dtype=np.float32)
    assert float(to_numpy(pulling_away_term(model.ops, model._tensor(same))).sum()) == pytest.approx(1.0, rel=1e-5)


def test_cnn_reaches_97_percent_on_digits(backend):
    ab.seed_everything(0)
    dataset = load_digits(flatten=False)
    model = backend.ConvolutionalNeuralNetworks((1, 8, 8), channels=(16, 32), hidden=(64,), dropout=0.1)
    model.learn(dataset.iterator(batch_size=32, epochs=8, seed=0, flatten=False), progress=False)
    assert model.history["test_accuracy"].iloc[-1] >= 0.97
    predicted = model.inference(dataset.x_test).argmax(axis=1)
    assert (predicted == dataset.y_test).mean() >= 0.97


@pytest.mark.parametrize("name", ["ConvolutionalAutoEncoder", "ContractiveConvolutionalAutoEncoder",
                                  "RepellingConvolutionalAutoEncoder", "ContractiveAutoEncoder"])
def test_cae_variants_beat_the_mean_image(backend, name):
    """Test reconstruction MSE at most 60% of the mean-image predictor's (flat digits, 16-unit code)."""
    ab.seed_everything(0)
    dataset = load_digits()
    model = getattr(backend, name).example(dataset.n_features, code_size=16)
    model.learn(dataset.iterator(batch_size=32, epochs=10, seed=0, labels=False), progress=False)
    mse = np.mean((model.inference(dataset.x_test) - dataset.x_test) ** 2)
    mean_mse = np.mean((dataset.x_train.mean(axis=0) - dataset.x_test) ** 2)
    assert mse < 0.6 * mean_mse
    assert model.extract_feature_points(dataset.x_test[:5]).shape == (5, 16)


def test_image_input_and_residual_blocks(backend):
    ab.seed_everything(0)
    x = np.random.default_rng(0).random((40, 2, 6, 6)).astype(np.float32)
    y = (x[:, 0].mean(axis=(1, 2)) > x[:, 1].mean(axis=(1, 2))).astype(np.int64)
    model = backend.ConvolutionalNeuralNetworks((2, 6, 6), channels=(2, 4), residual=True, pooling="avg",
                                                hidden=(), outputs=2)
    assert model.inference(x).shape == (40, 2)
    assert "encoder.shortcuts.0.weight" in model.export_state()  # only the width change (2 -> 4)
    assert model.export_state()["encoder.shortcuts.0.weight"].shape == (4, 2, 1, 1)
    model.learn(ArrayIterator(x, y, batch_size=8, epochs=3, seed=0), progress=False)
    assert model.history["train_loss"].iloc[-1] < model.history["train_loss"].iloc[0]
    cae = backend.ConvolutionalAutoEncoder((2, 6, 6), channels=(3,), code_size=5)
    assert cae.inference(x).shape == x.shape and cae.extract_feature_points(x).shape == (40, 5)


def test_bad_hyper_parameters_are_clear_errors(backend):
    with pytest.raises(ab.InputError, match="odd"):
        backend.ConvolutionalNeuralNetworks((1, 8, 8), kernel_size=4)
    with pytest.raises(ab.InputError, match="poolings do not fit"):
        backend.ConvolutionalNeuralNetworks((1, 8, 8), channels=(2, 2, 2, 2))
    with pytest.raises(ab.InputError, match="channels, height, width"):
        backend.ConvolutionalAutoEncoder((8, 8))
    with pytest.raises(ab.InputError, match="pooling must be"):
        backend.ConvolutionalNeuralNetworks((1, 8, 8), pooling="median")
    with pytest.raises(ab.InputError, match="batch_norm"):
        backend.ContractiveConvolutionalAutoEncoder((1, 8, 8), channels=(2,), batch_norm=True)
    with pytest.raises(ab.InputError, match="activations"):
        backend.ContractiveConvolutionalAutoEncoder((1, 8, 8), channels=(2,), activation="gelu")
    with pytest.raises(ab.InputError, match="contraction"):
        backend.ContractiveConvolutionalAutoEncoder((1, 8, 8), channels=(2,), contraction=-1.0)
    with pytest.raises(ab.InputError, match="repelling"):
        backend.RepellingConvolutionalAutoEncoder((1, 8, 8), channels=(2,), repelling=-1.0)
    model = backend.ConvolutionalAutoEncoder((1, 8, 8), channels=(2,))
    with pytest.raises(ab.ShapeError, match=r"expects samples of shape \(1, 8, 8\), got \(1, 8, 7\)"):
        model.inference(np.zeros((2, 1, 8, 7), dtype=np.float32))


def test_image_shape_for():
    assert image_shape_for(64) == (1, 8, 8)
    assert image_shape_for(784) == (1, 28, 28)
    assert image_shape_for(12) == (1, 3, 4)
    assert image_shape_for(7) == (1, 1, 7)


@pytest.mark.mxnet
def test_mxnet_conv_models_hybridize(tiny):
    mb = pytest.importorskip("accelbrainbase.mxnet")
    ab.seed_everything(0)
    x = np.random.default_rng(0).random((6, 1, 8, 8)).astype(np.float32)
    for model in (mb.ConvolutionalNeuralNetworks((1, 8, 8), channels=(4, 8), residual=True),
                  mb.ConvolutionalAutoEncoder((1, 8, 8), channels=(4, 8), batch_norm=True)):
        assert model._active  # hybridized by the constructor
        hybrid = model.inference(x)
        model.hybridize(active=False)
        np.testing.assert_allclose(model.inference(x), hybrid, atol=1e-6)
