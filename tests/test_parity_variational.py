"""The variational auto-encoders give the same mean codes, decodings, samples, ELBOs and (with a
fixed eps) the same loss in torch and mxnet with the same weights; a torch checkpoint serves in
mxnet."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab

pytestmark = pytest.mark.parity


def loss_with_noise(model, x, eps, train):
    """The loss and metrics of ``x`` with the fixed noise ``eps``, in training mode (batch
    statistics) or prediction mode (running statistics)."""
    batch = ab.Batch(model._tensor(x), model._tensor(x))
    if type(model).__module__.startswith("accelbrainbase.mxnet"):
        from mxnet import autograd

        with autograd.record(train_mode=train):
            loss, metrics = model.batch_loss(batch, eps=model._tensor(eps))
        value = lambda v: float(v.asnumpy().sum())  # noqa: E731
    else:
        model.train(train)
        loss, metrics = model.batch_loss(batch, eps=model._tensor(eps))
        value = lambda v: float(v.detach().sum())  # noqa: E731
    return {"loss": value(loss), **{k: value(v) for k, v in metrics.items()}}


@pytest.mark.parametrize("name,config", [
    ("VariationalAutoEncoder", dict(hidden=(8, 6))),
    ("VariationalAutoEncoder", dict(hidden=(8,), reconstruction="gaussian", kl_weight=0.5, observation_std=0.2)),
    ("ConvolutionalVariationalAutoEncoder", dict(hidden=(3, 4))),
    ("ConvolutionalVariationalAutoEncoder", dict(hidden=(3,), batch_norm=True, reconstruction="gaussian")),
])
def test_vae_parity(both_backends, name, config, tmp_path):
    tb, mb = both_backends
    ab.seed_everything(0)
    t = getattr(tb, name).example(64, code_size=5, **config)
    m = getattr(mb, name).example(64, code_size=5, **config)
    assert t.export_state().keys() == m.export_state().keys()
    state = {k: v + np.random.default_rng(0).normal(size=v.shape).astype(np.float32) * 0.05
             for k, v in t.export_state().items() if "running" not in k}  # non-zero biases
    t.import_state(dict(t.export_state(), **state))
    m.elbo(np.zeros((2, 64), np.float32), seed=0)  # mxnet's hybridized ELBO graph exists before the import
    m.import_state(t.export_state())
    assert t.n_parameters == m.n_parameters
    x = np.random.default_rng(1).random((9, 64)).astype(np.float32)
    np.testing.assert_allclose(t.extract_feature_points(x), m.extract_feature_points(x), atol=1e-5)
    for a, b in zip(t.posterior(x), m.posterior(x)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(t.inference(x), m.inference(x), atol=1e-5)
    np.testing.assert_allclose(t.generate(6, seed=2), m.generate(6, seed=2), atol=1e-5)
    np.testing.assert_allclose(t.elbo(x, samples=3, seed=4), m.elbo(x, samples=3, seed=4), rtol=1e-5, atol=1e-4)
    eps = np.random.default_rng(3).standard_normal((9, 5)).astype(np.float32)
    for train in (False, True):  # prediction mode first: a training-mode pass moves running statistics
        lt, lm = loss_with_noise(t, x, eps, train), loss_with_noise(m, x, eps, train)
        assert lt.keys() == lm.keys() == {"loss", "elbo", "reconstruction", "kl"}
        for key in lt:
            assert lt[key] == pytest.approx(lm[key], rel=1e-5, abs=1e-5), (key, train)
    t.save(str(tmp_path))
    served = ab.load(str(tmp_path), backend="mxnet")
    assert type(served).__module__ == mb.variational.__name__
    np.testing.assert_allclose(served.inference(x), t.inference(x), atol=1e-5)


def test_same_public_names(both_backends):
    tb, mb = both_backends
    for name in ("VariationalAutoEncoder", "ConvolutionalVariationalAutoEncoder", "ConvolutionalDecoder"):
        assert name in tb.__all__ and name in mb.__all__
