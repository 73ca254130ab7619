"""The adversarial family in both backends: the same weights give the same generator and
discriminator outputs, and the same seeded data and noise give the same weights after learning
(the step order is written once, so each part's update matches)."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.data import ArrayIterator

pytestmark = pytest.mark.parity

NAMES = ["GANController", "ConditionalGANController", "EBGANController", "AAEController", "EBAAEController"]


def build(backend, name, **kwargs):
    ab.seed_everything(0)  # the noise / prior samplers draw their seeds from NumPy's global state
    cls = getattr(backend, name)
    extra = {"n_classes": 3} if getattr(cls, "conditional_example", False) else {}
    return cls.example(12, code_size=4, hidden=(8,), **extra, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_same_weights_same_outputs(both_backends, tiny, name):
    tb, mb = both_backends
    t, m = build(tb, name), build(mb, name)
    m.import_state(t.export_state())
    x = tiny[0][:9]
    if hasattr(t, "generator"):
        z = t.generator.draw_inputs(9, labels=[0, 1, 2] * 3 if t.conditional else None)[0]
        np.testing.assert_allclose(t.inference(z), m.inference(z), atol=1e-5)
    else:
        np.testing.assert_allclose(t.inference(x), m.inference(x), atol=1e-5)
        np.testing.assert_allclose(t.extract_feature_points(x), m.extract_feature_points(x), atol=1e-5)
    labels = np.array([0, 1, 2] * 3)
    for model in (t, m):
        d = model.discriminator
        sample = model.extract_feature_points(x) if hasattr(model, "auto_encoder") else x
        if hasattr(d, "energies"):
            model.out_ = d.energies(sample)
        else:
            model.out_ = d.apply_numpy(lambda v: d.logits(v, d.condition_tensor(labels) if d.n_conditions else None),
                                       sample)
    np.testing.assert_allclose(t.out_, m.out_, atol=1e-5)
    assert t.n_parameters == m.n_parameters


@pytest.mark.parametrize("name", NAMES)
def test_learning_gives_the_same_weights(both_backends, tiny, name):
    """Three epochs of plain SGD from the same weights, batches and noise: the same weights."""
    tb, mb = both_backends
    sgd = {"learning_rate": 0.05}
    t, m = build(tb, name, **sgd), build(mb, name, **sgd)
    for model in (t, m):
        for part in model.optimized_parts():
            part.optimizer = part.optimizer_spec = ab.OptimizerSpec("sgd", learning_rate=0.05)
    m.import_state(t.export_state())
    for model in (t, m):
        labels = tiny[1] if getattr(model, "conditional", False) else None
        model.learn(ArrayIterator(tiny[0], labels, batch_size=16, epochs=3, seed=0), progress=False)
    ts, ms = t.export_state(), m.export_state()
    for key in ts:
        np.testing.assert_allclose(ts[key], ms[key], atol=2e-5, err_msg=key)
    np.testing.assert_allclose(t.history.drop(columns="seconds").to_numpy(),
                               m.history.drop(columns="seconds").to_numpy(), atol=1e-4)
