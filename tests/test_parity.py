"""The same weights give the same outputs in torch and mxnet (atol 1e-5); both backends export
the same public names. Runs in .venv-mxnet, where both frameworks import."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models.networks import ACTIVATIONS

pytestmark = pytest.mark.parity


def transplant(source, target):
    target.import_state(source.export_state())
    return target


def test_both_backends_export_the_same_names(both_backends):
    torch_backend, mxnet_backend = both_backends
    assert set(torch_backend.__all__) == set(mxnet_backend.__all__)
    for name in torch_backend.__all__:
        assert hasattr(torch_backend, name) and hasattr(mxnet_backend, name)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_parity_for_every_activation(both_backends, tiny, activation):
    tb, mb = both_backends
    ab.seed_everything(0)
    config = dict(units=[12, 9, 7, 4], activation=activation, output_activation=activation)
    t = tb.NeuralNetworks(**config)
    m = transplant(t, mb.NeuralNetworks(**config))
    np.testing.assert_allclose(t.inference(tiny[0]), m.inference(tiny[0]), atol=1e-5)


def test_batch_norm_parity_after_learning(both_backends, tiny):
    tb, mb = both_backends
    ab.seed_everything(0)
    config = dict(units=[12, 16, 3], batch_norm=True, dropout=0.2, loss="cross_entropy")
    t = tb.NeuralNetworks(**config)
    from accelbrainbase.data import ArrayIterator

    t.learn(ArrayIterator(*tiny, batch_size=16, epochs=2), progress=False)
    m = transplant(t, mb.NeuralNetworks(**config))
    np.testing.assert_allclose(t.inference(tiny[0]), m.inference(tiny[0]), atol=1e-5)


@pytest.mark.parametrize("name", ["AutoEncoder", "DenoisingAutoEncoder", "StackedAutoEncoder"])
@pytest.mark.parametrize("tied", [False, True])
def test_autoencoder_parity(both_backends, tiny, name, tied):
    tb, mb = both_backends
    ab.seed_everything(0)
    t = getattr(tb, name).example(12, code_size=4, hidden=(8,), tied_weights=tied)
    m = transplant(t, getattr(mb, name).example(12, code_size=4, hidden=(8,), tied_weights=tied))
    np.testing.assert_allclose(t.inference(tiny[0]), m.inference(tiny[0]), atol=1e-5)
    np.testing.assert_allclose(t.extract_feature_points(tiny[0]), m.extract_feature_points(tiny[0]), atol=1e-5)
    assert t.n_parameters == m.n_parameters


def test_one_training_step_matches(both_backends, tiny):
    """Same weights, same batch, plain SGD: the updated weights agree across backends."""
    tb, mb = both_backends
    ab.seed_everything(0)
    spec = ab.OptimizerSpec("sgd", learning_rate=0.5)
    t = tb.AutoEncoder.dense([12, 6, 3], optimizer=spec)
    m = transplant(t, mb.AutoEncoder.dense([12, 6, 3], optimizer=spec))
    batch = ab.Batch(tiny[0][:16], tiny[0][:16])
    lt, lm = (model.resolve_logs(model.learn_step(batch))["loss"] for model in (t, m))
    assert lt == pytest.approx(lm, rel=1e-5)
    st, sm = t.export_state(), m.export_state()
    for key in st:
        np.testing.assert_allclose(st[key], sm[key], atol=1e-5, err_msg=key)


def test_train_in_one_backend_serve_in_the_other(both_backends, tiny, tmp_path):
    tb, mb = both_backends
    ab.seed_everything(0)
    t = tb.AutoEncoder.example(12, code_size=4, hidden=(8,))
    t.save(tmp_path / "ae")
    m = mb.AutoEncoder.load(tmp_path / "ae")
    np.testing.assert_allclose(t.inference(tiny[0]), m.inference(tiny[0]), atol=1e-5)


def test_importing_mxnet_leaves_torch_its_threads(both_backends):
    """mxnet's import sets the process's OpenMP threads to 1; torch must keep its own."""
    import os

    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        assert torch.get_num_threads() == int(os.environ["OMP_NUM_THREADS"])
    elif len(os.sched_getaffinity(0)) > 1:
        assert torch.get_num_threads() > 1
