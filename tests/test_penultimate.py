"""``penultimate`` / ``extract_feature_points`` of the classifiers (MLP, CNN): the activations
that feed the output layer, in both backends; the output layer applied to them is the forward
output; in mxnet they work imperatively inside ``autograd.record`` (feature matching) while
the model stays hybridized."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.errors import ShapeError
from accelbrainbase.data import ArrayIterator

ACT = {"identity": lambda z: z, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}


def _images(n=12, seed=0):
    return np.random.default_rng(seed).random((n, 1, 8, 8)).astype(np.float32)


def _build(b, kind):
    """(model, input, expected feature width, canonical name of the output layer)."""
    if kind == "mlp":
        net = b.NeuralNetworks([6, 5, 4, 3], batch_norm=True, dropout=0.3, output_activation="sigmoid")
        return net, np.random.default_rng(0).random((12, 6)).astype(np.float32), 4, "layers.2"
    if kind == "cnn-hidden":
        net = b.ConvolutionalNeuralNetworks((1, 8, 8), channels=(4, 6), hidden=(5,), dropout=0.2)
        return net, _images(), 5, "encoder.head.1"
    net = b.ConvolutionalNeuralNetworks((1, 8, 8), channels=(4, 6), hidden=(), residual=True, flat=True)
    return net, _images().reshape(12, 64), 6 * 2 * 2, "encoder.head.0"  # two 2x2 poolings: 8 -> 2


@pytest.mark.parametrize("kind", ["mlp", "cnn-hidden", "cnn-empty-head"])
def test_output_layer_of_penultimate_is_the_forward_output(backend, kind):
    ab.seed_everything(0)
    net, x, width, last = _build(backend, kind)
    y = np.random.default_rng(1).integers(0, 3, len(x))
    net.learn(ArrayIterator(x, np.eye(3, dtype=np.float32)[y] if kind == "mlp" else y, batch_size=4, epochs=1),
              progress=False)  # batch-norm running statistics move away from (0, 1)
    features = net.extract_feature_points(x)
    assert features.shape == (len(x), width) and features.dtype == np.float32
    state = net.export_state()
    logits = features @ state[f"{last}.weight"].T + state[f"{last}.bias"]
    np.testing.assert_allclose(ACT[net.output_activation](logits), net.inference(x), atol=1e-5)
    np.testing.assert_array_equal(net.extract_feature_points(x), features)  # evaluation mode: no dropout


def test_penultimate_without_hidden_layers_is_the_input(backend):
    net = backend.NeuralNetworks([6, 3])
    x = np.random.default_rng(0).random((5, 6)).astype(np.float32)
    np.testing.assert_array_equal(net.extract_feature_points(x), x)


def test_penultimate_of_the_cnn_is_its_encoders(backend):
    ab.seed_everything(0)
    net = backend.ConvolutionalNeuralNetworks((1, 8, 8), channels=(4,), hidden=(7,), batch_norm=False)
    x = _images(3)
    direct = net.apply_numpy(net.encoder.penultimate, x)
    np.testing.assert_array_equal(net.extract_feature_points(x), direct)
    assert direct.shape == (3, 7) and (direct >= 0).all()  # after the hidden layer's relu


def test_extract_feature_points_checks_its_input(backend):
    net = backend.NeuralNetworks([6, 4, 3])
    with pytest.raises(ShapeError, match="expected 6, got 5"):
        net.extract_feature_points(np.zeros((2, 5), dtype=np.float32))


@pytest.mark.mxnet
@pytest.mark.parity
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_mxnet_penultimate_records_gradients_and_the_model_stays_hybrid(both_backends, kind, tmp_path):
    """Feature matching (Salimans et al. 2016) differentiates the penultimate activations inside
    ``autograd.record``: the input and weight gradients equal torch's; afterwards the model still
    runs its cached graph and exports."""
    import torch
    from mxnet import autograd, gluon, nd

    tb, mb = both_backends
    ab.seed_everything(0)
    if kind == "mlp":
        t, m = tb.NeuralNetworks([6, 5, 4, 3]), mb.NeuralNetworks([6, 5, 4, 3])
        x, first = np.random.default_rng(0).random((7, 6)).astype(np.float32), "layers.0.weight"
    else:
        config = dict(image_shape=(1, 8, 8), channels=(4, 6), hidden=(5,), batch_norm=False)
        t, m = tb.ConvolutionalNeuralNetworks(**config), mb.ConvolutionalNeuralNetworks(**config)
        x, first = _images(7), "encoder.convs.0.weight"
    m.import_state(t.export_state())
    m(nd.array(x))  # the hybridized graph is built first
    xm = nd.array(x)
    xm.attach_grad()
    with autograd.record():
        loss = nd.mean(m.penultimate(xm) ** 2)
    loss.backward()
    xt = torch.tensor(x, requires_grad=True)
    loss_t = (t.penultimate(xt) ** 2).mean()
    loss_t.backward()
    assert float(loss.asscalar()) == pytest.approx(loss_t.item(), rel=1e-5)
    assert np.abs(xt.grad.numpy()).max() > 0
    np.testing.assert_allclose(xm.grad.asnumpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-7)
    weight_m = m._canonical_parameters()[first].grad().asnumpy()
    weight_t = dict(t.named_parameters())[first].grad.numpy()
    np.testing.assert_allclose(weight_m, weight_t, rtol=1e-4, atol=1e-7)
    assert m._active and m._cached_op is not None
    np.testing.assert_allclose(m(nd.array(x)).asnumpy(), t.inference(x), atol=1e-5)
    m.export(str(tmp_path / "net"))
    served = gluon.SymbolBlock.imports(str(tmp_path / "net-symbol.json"), ["data"],
                                       str(tmp_path / "net-0000.params"))
    np.testing.assert_allclose(served(nd.array(x)).asnumpy(), t.inference(x), atol=1e-5)


@pytest.mark.parity
@pytest.mark.parametrize("kind", ["mlp", "cnn-hidden", "cnn-empty-head"])
def test_feature_parity(both_backends, kind):
    tb, mb = both_backends
    ab.seed_everything(0)
    t, x, _, _ = _build(tb, kind)
    m, _, _, _ = _build(mb, kind)
    state = {k: v + (np.float32(0.3) if "running_var" in k else np.float32(0.1)) for k, v in t.export_state().items()}
    t.import_state(state)  # batch-norm statistics away from (0, 1)
    m.import_state(state)
    np.testing.assert_allclose(t.extract_feature_points(x), m.extract_feature_points(x), atol=1e-5)
