"""The ladder networks give the same outputs and costs in torch and mxnet with the same weights
(and the same noise draws)."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab

pytestmark = pytest.mark.parity


@pytest.mark.parametrize("name,kwargs", [("LadderNetworks", dict(hidden=(7, 5))),
                                         ("ConvolutionalLadderNetworks", dict(hidden=(6,))),
                                         ("ConvolutionalLadderNetworks", dict(image_shape=(1, 7, 9)))])
def test_ladder_parity(both_backends, name, kwargs):
    tb, mb = both_backends
    n_features = 63 if "image_shape" in kwargs else 64
    ab.seed_everything(0)
    t = getattr(tb, name).example(n_features, code_size=4, **kwargs)
    m = getattr(mb, name).example(n_features, code_size=4, **kwargs)
    rng = np.random.default_rng(0)
    state = {k: (v + rng.normal(scale=0.3, size=v.shape) if "running_var" not in k else v + 0.5).astype(np.float32)
             for k, v in t.export_state().items()}
    t.import_state(state)
    m.import_state(state)
    assert t.n_parameters == m.n_parameters
    x = rng.random((9, n_features)).astype(np.float32)
    np.testing.assert_allclose(t.inference(x), m.inference(x), rtol=1e-4, atol=1e-5)
    noise = [rng.normal(size=(9,) + s).astype(np.float32) for s in t.layer_shapes]
    assert t.denoising_cost(x, noise) == pytest.approx(m.denoising_cost(x, noise), rel=1e-4)
    t0, m0 = t.clone(noise_std=0.0), m.clone(noise_std=0.0)  # no noise: one training step is deterministic
    t0.import_state(state)
    m0.import_state(state)
    y = np.array([0, 1, -1, 3, -1, -1, 2, -1, 0])
    lt, lm = t0.resolve_logs(t0.learn_step(ab.Batch(x, x, y))), m0.resolve_logs(m0.learn_step(ab.Batch(x, x, y)))
    for key in ("loss", "supervised", "denoising", "accuracy"):
        assert lt[key] == pytest.approx(lm[key], rel=1e-4, abs=1e-6), key
    after_t, after_m = t0.export_state(), m0.export_state()
    for key in after_t:  # the running statistics and the first Adam step agree
        np.testing.assert_allclose(after_t[key], after_m[key], rtol=1e-3, atol=1e-4, err_msg=key)
