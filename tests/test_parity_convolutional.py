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
