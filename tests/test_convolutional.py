"""Convolutional family against the math (Jacobian norm, pulling-away term), on real data
(digits 8x8), and its checks; both backends."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models.convolutional import image_shape_for, pulling_away_term
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


@pytest.mark.parametrize("name,tied", [
    ("ConvolutionalAutoEncoder", False), ("ContractiveConvolutionalAutoEncoder", False),
    ("RepellingConvolutionalAutoEncoder", False), ("ContractiveAutoEncoder", False),
    ("ConvolutionalAutoEncoder", True), ("RepellingConvolutionalAutoEncoder", True),
])
def test_cae_variants_beat_the_mean_image(backend, name, tied):
    """Test reconstruction MSE at most 60% of the mean-image predictor's (flat digits, 16-unit code)."""
    ab.seed_everything(0)
    dataset = load_digits()
    model = getattr(backend, name).example(dataset.n_features, code_size=16, **({"tied_weights": True} if tied else {}))
    model.learn(dataset.iterator(batch_size=32, epochs=10, seed=0, labels=False), progress=False)
    mse = np.mean((model.inference(dataset.x_test) - dataset.x_test) ** 2)
    mean_mse = np.mean((dataset.x_train.mean(axis=0) - dataset.x_test) ** 2)
    assert mse < 0.6 * mean_mse
    assert model.extract_feature_points(dataset.x_test[:5]).shape == (5, 16)


def conv_transpose_numpy(x, weight, bias, pad):
    """Stride-1 transposed convolution by its definition: each input pixel adds weight[c, o] at
    its offset, (N, C, H, W) x (C, O, k, k) -> (N, O, H + k - 1 - 2 pad, W + k - 1 - 2 pad)."""
    n, _, h, w = x.shape
    k = weight.shape[2]
    full = np.zeros((n, weight.shape[1], h + k - 1, w + k - 1))
    for a in range(k):
        for b in range(k):
            full[:, :, a:a + h, b:b + w] += np.einsum("nchw,co->nohw", x, weight[:, :, a, b])
    return full[:, :, pad:full.shape[2] - pad, pad:full.shape[3] - pad] + bias[None, :, None, None]


def tied_cae(backend, name="ConvolutionalAutoEncoder", tied=True, **kwargs):
    return getattr(backend, name)((1, 8, 8), channels=(3, 4), code_size=5, activation="tanh",
                                  tied_weights=tied, **kwargs)


def test_tied_cae_decoder_uses_the_encoder_weights(backend):
    ab.seed_everything(0)
    tied, untied = tied_cae(backend), tied_cae(backend, tied=False)
    state = tied.export_state()
    encoder_weights = ["encoder.convs.0.weight", "encoder.convs.1.weight", "encoder.head.0.weight"]
    assert not [k for k in state if k.startswith("decoder.") and k.endswith("weight")]
    assert set(untied.export_state()) - set(state) == {"decoder.expand.weight", "decoder.deconvs.0.weight",
                                                        "decoder.deconvs.1.weight"}
    assert untied.n_parameters - tied.n_parameters == sum(state[k].size for k in encoder_weights)
    assert "tied_weights=True" in tied.extra_repr()  # (torch shows it in repr; gluon has no extra_repr)
    rng = np.random.default_rng(0)
    state = {k: rng.normal(size=v.shape).astype(np.float32) * 0.3 for k, v in state.items()}  # biases too
    tied.import_state(state)
    codes = rng.normal(size=(4, 5)).astype(np.float32)
    x = np.tanh(codes @ state["encoder.head.0.weight"] + state["decoder.expand.bias"]).reshape(4, 4, 8, 8)
    x = np.tanh(conv_transpose_numpy(x, state["encoder.convs.1.weight"], state["decoder.deconvs.0.bias"], 1))
    x = conv_transpose_numpy(x, state["encoder.convs.0.weight"], state["decoder.deconvs.1.bias"], 1)
    expected = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(tied.apply_numpy(tied.decoder, codes), expected, atol=1e-5)
    if backend.__name__.endswith("torch"):  # and against torch's own transposed convolution
        import torch
        import torch.nn.functional as F

        h = torch.tanh(torch.tensor(codes) @ torch.tensor(state["encoder.head.0.weight"])
                       + torch.tensor(state["decoder.expand.bias"])).reshape(4, 4, 8, 8)
        h = torch.tanh(F.conv_transpose2d(h, torch.tensor(state["encoder.convs.1.weight"]),
                                          torch.tensor(state["decoder.deconvs.0.bias"]), padding=1))
        np.testing.assert_allclose(expected, torch.sigmoid(F.conv_transpose2d(
            h, torch.tensor(state["encoder.convs.0.weight"]), torch.tensor(state["decoder.deconvs.1.bias"]),
            padding=1)).numpy(), atol=1e-5)


@pytest.mark.parametrize("name", ["ConvolutionalAutoEncoder", "ContractiveConvolutionalAutoEncoder",
                                  "RepellingConvolutionalAutoEncoder"])
def test_tied_cae_gradient_is_the_sum_of_both_uses(backend, name):
    """One SGD step of the tied model moves each shared weight by the sum of the steps an untied
    model with the same (copied) weights takes for its encoder and its mirrored decoder weight."""
    ab.seed_everything(0)
    sgd = ab.OptimizerSpec("sgd", learning_rate=100.0)  # large: steps well above float32 rounding
    tied, untied = tied_cae(backend, name, optimizer=sgd), tied_cae(backend, name, tied=False, optimizer=sgd)
    before = tied.export_state()
    copied = dict(before, **{"decoder.deconvs.0.weight": before["encoder.convs.1.weight"],
                             "decoder.deconvs.1.weight": before["encoder.convs.0.weight"],
                             "decoder.expand.weight": before["encoder.head.0.weight"].T})
    untied.import_state(copied)
    x = np.random.default_rng(0).random((6, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(tied.inference(x), untied.inference(x), atol=1e-6)
    batch = ab.Batch(x, x)
    tied.resolve_logs(tied.learn_step(batch)), untied.resolve_logs(untied.learn_step(batch))
    t_step = {k: v - before[k] for k, v in tied.export_state().items()}
    u_step = {k: v - copied[k] for k, v in untied.export_state().items()}
    for encoder, decoder, flip in (("encoder.convs.0.weight", "decoder.deconvs.1.weight", False),
                                   ("encoder.convs.1.weight", "decoder.deconvs.0.weight", False),
                                   ("encoder.head.0.weight", "decoder.expand.weight", True)):
        from_decoder = u_step[decoder].T if flip else u_step[decoder]
        assert np.abs(from_decoder).max() > 1e-3 and np.abs(u_step[encoder]).max() > 1e-5  # both uses count
        np.testing.assert_allclose(t_step[encoder], u_step[encoder] + from_decoder, rtol=1e-3, atol=1e-6)
    for key in t_step:  # biases: one use each, the same step
        if not key.endswith("weight"):
            np.testing.assert_allclose(t_step[key], u_step[key], rtol=1e-3, atol=1e-7)


def test_tied_cae_save_load_round_trip(backend, tmp_path):
    ab.seed_everything(0)
    model = tied_cae(backend, "RepellingConvolutionalAutoEncoder", batch_norm=True)
    x = np.random.default_rng(0).random((10, 1, 8, 8)).astype(np.float32)
    model.learn(ArrayIterator(x, batch_size=5, epochs=1), progress=False)
    model.save(str(tmp_path))
    loaded = ab.load(str(tmp_path))
    assert type(loaded) is type(model) and loaded.tied_weights and loaded.get_config()["tied_weights"]
    assert loaded.export_state().keys() == model.export_state().keys()
    np.testing.assert_allclose(loaded.inference(x), model.inference(x), atol=1e-6)


def test_tied_cae_exports_natively(backend, tmp_path):
    """torch.export traces the tied decoder; mxnet exports symbol + params that load back."""
    ab.seed_everything(0)
    model = tied_cae(backend, batch_norm=True)
    x = np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32)
    expected = model.inference(x)
    if backend.__name__.endswith("torch"):
        import torch

        program = torch.export.export(model.eval(), (torch.from_numpy(x),))
        got = program.module()(torch.from_numpy(x)).detach().numpy()
    else:
        from mxnet import gluon, nd

        model(nd.array(x))  # builds the cached graph that export writes
        model.export(str(tmp_path / "cae"))
        block = gluon.SymbolBlock.imports(str(tmp_path / "cae-symbol.json"), ["data"],
                                          str(tmp_path / "cae-0000.params"))
        got = block(nd.array(x)).asnumpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)


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
    with pytest.raises(ab.InputError, match="tied_weights must be True or False"):
        backend.ConvolutionalAutoEncoder((1, 8, 8), channels=(2,), tied_weights="yes")
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
                  mb.ConvolutionalAutoEncoder((1, 8, 8), channels=(4, 8), batch_norm=True),
                  mb.ConvolutionalAutoEncoder((1, 8, 8), channels=(4, 8), tied_weights=True)):
        assert model._active  # hybridized by the constructor
        hybrid = model.inference(x)
        model.hybridize(active=False)
        np.testing.assert_allclose(model.inference(x), hybrid, atol=1e-6)
