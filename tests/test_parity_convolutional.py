"""The convolutional family gives the same outputs, codes and penalties in torch and mxnet
with the same weights (atol 1e-5)."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab

pytestmark = pytest.mark.parity

AUTOENCODERS = ["ConvolutionalAutoEncoder", "ContractiveConvolutionalAutoEncoder",
                "RepellingConvolutionalAutoEncoder", "ContractiveAutoEncoder"]


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_autoencoder_parity(both_backends, name):
    tb, mb = both_backends
    ab.seed_everything(0)
    t = getattr(tb, name).example(64, code_size=5, hidden=(4, 6))
    m = getattr(mb, name).example(64, code_size=5, hidden=(4, 6))
    m.import_state(t.export_state())
    x = np.random.default_rng(0).random((9, 64)).astype(np.float32)
    np.testing.assert_allclose(t.inference(x), m.inference(x), atol=1e-5)
    np.testing.assert_allclose(t.extract_feature_points(x), m.extract_feature_points(x), atol=1e-5)
    assert t.n_parameters == m.n_parameters
    batch = ab.Batch(x, x)
    lt, lm = t.resolve_logs(t.learn_step(batch)), m.resolve_logs(m.learn_step(batch))
    assert lt.keys() == lm.keys()
    for key in lt:  # the loss and its parts (penalty) before the update agree
        assert lt[key] == pytest.approx(lm[key], rel=1e-4, abs=1e-7), key


@pytest.mark.parametrize("name", AUTOENCODERS[:3])
def test_tied_autoencoder_parity(both_backends, name, tmp_path):
    """Tied weights: the same state names (no decoder weights), outputs, loss and SGD step in
    both backends; a torch checkpoint loads into mxnet."""
    tb, mb = both_backends
    ab.seed_everything(0)
    config = dict(code_size=5, hidden=(4, 6), tied_weights=True, batch_norm=name != AUTOENCODERS[1],
                  optimizer=ab.OptimizerSpec("sgd", learning_rate=0.5))
    t, m = getattr(tb, name).example(64, **config), getattr(mb, name).example(64, **config)
    assert t.export_state().keys() == m.export_state().keys()
    assert not [k for k in t.export_state() if k.startswith("decoder.") and k.endswith(".weight")
                and "norms" not in k]
    state = {k: v + np.random.default_rng(0).normal(size=v.shape).astype(np.float32) * 0.05
             for k, v in t.export_state().items() if "running" not in k}  # non-zero decoder biases
    t.import_state(dict(t.export_state(), **state))
    m.import_state(t.export_state())
    x = np.random.default_rng(0).random((9, 64)).astype(np.float32)
    np.testing.assert_allclose(t.inference(x), m.inference(x), atol=1e-5)
    assert t.n_parameters == m.n_parameters
    batch = ab.Batch(x, x)
    lt, lm = t.resolve_logs(t.learn_step(batch)), m.resolve_logs(m.learn_step(batch))
    for key in lt:
        assert lt[key] == pytest.approx(lm[key], rel=1e-4, abs=1e-7), key
    after_t, after_m = t.export_state(), m.export_state()
    for key in after_t:  # one SGD step through the shared weights moves both the same way
        np.testing.assert_allclose(after_t[key], after_m[key], rtol=1e-4, atol=2e-5, err_msg=key)
    t.save(str(tmp_path))
    served = ab.load(str(tmp_path), backend="mxnet")
    assert served.tied_weights and type(served).__module__ == mb.convolutional.__name__
    np.testing.assert_allclose(served.inference(x), t.inference(x), atol=1e-5)


@pytest.mark.parametrize("config", [dict(), dict(residual=True, pooling="avg", channels=(4, 4, 6)),
                                    dict(batch_norm=False, pooling=None, hidden=())])
def test_cnn_parity_after_learning(both_backends, config):
    tb, mb = both_backends
    ab.seed_everything(0)
    config = {"image_shape": (1, 8, 8), "channels": (4, 6), "dropout": 0.1, **config}
    t = tb.ConvolutionalNeuralNetworks(**config)
    x = np.random.default_rng(0).random((32, 1, 8, 8)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 10, 32)
    from accelbrainbase.data import ArrayIterator

    t.learn(ArrayIterator(x, y, batch_size=16, epochs=2), progress=False)  # running statistics move
    m = mb.ConvolutionalNeuralNetworks(**config)
    m.import_state(t.export_state())
    np.testing.assert_allclose(t.inference(x), m.inference(x), atol=1e-5)
    assert t.n_parameters == m.n_parameters
