"""Deep belief networks and deep Boltzmann machines checked against their math, on real digits,
and across backends (the contract tests in test_contract.py cover build/save/seed/bad input)."""
from __future__ import annotations


import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.interfaces import Batch
from accelbrainbase.data import ArrayIterator


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_of(tensor):
    return tensor.asnumpy() if hasattr(tensor, "asnumpy") else tensor.detach().cpu().numpy()


def momentum(lr, m):
    return ab.OptimizerSpec("momentum", learning_rate=lr, momentum=m)


def randomize(model, seed=0, scale=0.5):
    """Give every parameter seeded N(0, scale^2) values (same in both backends)."""
    rng = np.random.default_rng(seed)
    state = {k: rng.normal(0, scale, v.shape).astype(np.float32) for k, v in model.export_state().items()}
    model.import_state(state)
    return state


def digits_data(digits, batch_size=20, epochs=5):
    return ArrayIterator(digits.x_train, test_x=digits.x_test, batch_size=batch_size, epochs=epochs, seed=0)


def mean_image_mse(digits):
    return float(np.mean((digits.x_test - digits.x_train.mean(0)) ** 2))


# ------------------------------------------------------------------------------------ checks
def test_rbms_that_do_not_chain_are_named(backend):
    a = backend.RestrictedBoltzmannMachines(12, 8)
    b = backend.RestrictedBoltzmannMachines(6, 4)
    with pytest.raises(ab.ShapeError, match=r"rbms\[1\] has 6 visible units but rbms\[0\] has 8 hidden units"):
        backend.DeepBeliefNetworks([a, b])
    with pytest.raises(ab.InputError, match=r"rbms\[1\] has gaussian visible units"):
        backend.DeepBeliefNetworks([a, backend.RestrictedBoltzmannMachines(8, 4, visible="gaussian")])
    with pytest.raises(ab.InputError, match="not a mix"):
        backend.DeepBeliefNetworks([a, 4])


def test_dbn_built_from_given_rbms_keeps_them_and_round_trips(backend, tmp_path):
    ab.seed_everything(0)
    rbms = [backend.RestrictedBoltzmannMachines(12, 8), backend.RestrictedBoltzmannMachines(8, 4)]
    model = backend.DeepBeliefNetworks(rbms, pretrain_epochs=1)
    assert model.rbms[1] is rbms[1] and model.layer_units == [12, 8, 4]
    assert sorted(model.export_state()) == sorted(f"rbms.{i}.{p}" for i in (0, 1)
                                                  for p in ("weight", "visible_bias", "hidden_bias"))
    model.save(tmp_path / "m")
    loaded = type(model).load(tmp_path / "m")
    assert loaded.get_config() == model.get_config()
    x = np.random.default_rng(0).random((5, 12)).astype(np.float32)
    np.testing.assert_array_equal(loaded.inference(x), model.inference(x))


def test_dbn_from_given_rbms_refuses_settings_it_would_ignore(backend):
    """Given RBMs pre-train with their own k, persistent and optimizer: a different value passed
    to the network raises; the same value (or none) is accepted."""
    def rbms():
        return [backend.RestrictedBoltzmannMachines(12, 8, k=2), backend.RestrictedBoltzmannMachines(8, 4, k=2)]

    sgd = ab.OptimizerSpec("sgd", learning_rate=0.1)
    with pytest.raises(ab.InputError, match=r"pretrain_optimizer=.*sgd.*given rbms\[0\] pre-trains with its own"):
        backend.DeepBeliefNetworks(rbms(), pretrain_optimizer=sgd)
    with pytest.raises(ab.InputError, match=r"k=1 applies to the RBMs the network builds.*rbms\[0\] has k=2"):
        backend.DeepBeliefNetworks(rbms(), k=1)
    with pytest.raises(ab.InputError, match=r"persistent=True .*rbms\[0\] has persistent=False"):
        backend.DeepBeliefNetworks(rbms(), persistent=True)
    same = rbms()[0].optimizer
    model = backend.DeepBeliefNetworks(rbms(), k=2, persistent=False, pretrain_optimizer=same)
    assert model.get_config()["k"] == 2
    assert backend.DeepBeliefNetworks(rbms()).get_config()["pretrain_optimizer"] is None
    built = backend.DeepBeliefNetworks([12, 8, 4], k=3, pretrain_optimizer=sgd)
    assert [(r.k, r.optimizer) for r in built.rbms] == [(3, sgd), (3, sgd)]


def test_dbn_regularizers_constrain_the_pretraining_of_given_rbms(backend):
    """A MaxNorm passed to the network bounds the hidden units' incoming weights (columns) of
    given RBMs while they pre-train, without becoming part of their configuration."""
    ab.seed_everything(0)
    rbms = [backend.RestrictedBoltzmannMachines(12, 8), backend.RestrictedBoltzmannMachines(8, 4)]
    for rbm in rbms:
        randomize(rbm, seed=rbm.n_visible, scale=2.0)
    model = backend.DeepBeliefNetworks(rbms, pretrain_epochs=1, regularizers=[backend.MaxNorm(0.3)])
    x = np.random.default_rng(0).random((24, 12)).astype(np.float32)
    model.pretrain(ArrayIterator(x, batch_size=8, epochs=1, seed=0))
    for rbm in rbms:
        np.testing.assert_array_less(np.linalg.norm(rbm.export_state()["weight"], axis=0), 0.3 + 1e-5)
        assert rbm.regularizers == [] and rbm.get_config()["regularizers"] == []


@pytest.mark.parametrize("name", ["DeepBeliefNetworks", "DeepBoltzmannMachines"])
@pytest.mark.parametrize("bad,match", [
    (dict(units=[12]), "units must list"),
    (dict(units=[12, 0, 4]), r"units\[1\] must be > 0"),
    (dict(units=[12, 8.5]), r"units\[1\] must be an integer"),
    (dict(visible="poisson"), "unknown visible units"),
    (dict(pretrain_epochs=-1), "pretrain_epochs must be >= 0"),
    (dict(optimizer="warp-drive"), "optimizer"),
])
def test_bad_hyper_parameters_are_clear_errors(backend, name, bad, match):
    config = dict(units=[12, 8, 4], **{k: v for k, v in bad.items() if k != "units"})
    config["units"] = bad.get("units", config["units"])
    with pytest.raises(ab.InputError, match=match):
        getattr(backend, name)(**config)


@pytest.mark.parametrize("bad,match", [
    (dict(k=0), "k must be > 0"), (dict(persistent="yes"), "persistent must be True or False"),
])
def test_bad_dbn_hyper_parameters(backend, bad, match):
    with pytest.raises(ab.InputError, match=match):
        backend.DeepBeliefNetworks([12, 8, 4], **bad)


@pytest.mark.parametrize("bad,match", [
    (dict(mean_field_steps=0), "mean_field_steps must be > 0"),
    (dict(mean_field_tol=-1e-3), "mean_field_tol must be >= 0"),
    (dict(gibbs_steps=1.5), "gibbs_steps must be an integer"),
    (dict(n_chains=0), "n_chains must be > 0"),
])
def test_bad_dbm_hyper_parameters(backend, bad, match):
    with pytest.raises(ab.InputError, match=match):
        backend.DeepBoltzmannMachines([12, 8, 4], **bad)


def test_sample_and_transform_arguments_are_checked(backend):
    dbm = backend.DeepBoltzmannMachines([12, 8, 4])
    with pytest.raises(ab.InputError, match="layer must be an integer in"):
        dbm.transform(np.zeros((2, 12), np.float32), layer=2)
    with pytest.raises(ab.InputError, match="gibbs_steps must be > 0"):
        dbm.sample(3, gibbs_steps=0)
    with pytest.raises(ab.ShapeError, match="expected 4, got 5"):
        dbm.decode(np.zeros((2, 5), np.float32))


def test_public_rbm_keeps_its_config_and_factors(backend):
    rbm = backend.RestrictedBoltzmannMachines(6, 4)
    assert rbm.up_factor == rbm.down_factor == 1.0
    assert "up_factor" not in rbm.get_config() and "down_factor" not in rbm.get_config()


# ------------------------------------------------------------------------------------ DBN
def test_dbn_pretrains_greedily_once_on_the_probabilities_below(backend, digits):
    ab.seed_everything(0)
    model = backend.DeepBeliefNetworks([64, 32, 16], pretrain_epochs=4, optimizer=momentum(0.1, 0.9))
    seen = {}
    upper = model.rbms[1]
    original = upper.learn

    def spy(data, **kwargs):  # what the second RBM learns from, compared while it is current
        held_out = np.concatenate([b.clean for b in data.generate_inferenced_samples()])
        seen["match"] = np.allclose(held_out, model.rbms[0].transform(digits.x_test), atol=1e-6)
        return original(data, **kwargs)

    upper.learn = spy
    model.learn(digits_data(digits, batch_size=50, epochs=1), progress=False)
    assert seen["match"]
    assert len(model.pretrain_histories_) == 2
    for history in model.pretrain_histories_:
        assert len(history) == 4
        assert history["train_reconstruction_mse"].iloc[-1] < history["train_reconstruction_mse"].iloc[0]
    model.learn(digits_data(digits, batch_size=50, epochs=1), progress=False)
    assert len(model.pretrain_histories_) == 2 and len(model.pretrain_histories_[0]) == 4
    assert len(model.history) == 2


def test_dbn_reconstructs_test_digits_better_than_the_mean_image(backend, digits):
    ab.seed_everything(0)
    model = backend.DeepBeliefNetworks([64, 100, 32], pretrain_epochs=20, optimizer=momentum(0.1, 0.9))
    model.learn(digits_data(digits, epochs=5), progress=False)
    mse = float(np.mean((model.inference(digits.x_test) - digits.x_test) ** 2))
    assert mse < 0.6 * mean_image_mse(digits)
    losses = model.history["train_loss"]
    assert losses.iloc[-1] < losses.iloc[0]  # fine-tuning improves the pre-trained stack
    codes = model.encode(digits.x_test)
    assert codes.shape == (len(digits.x_test), 32) and codes.min() >= 0 and codes.max() <= 1
    np.testing.assert_allclose(model.decode(codes), model.inference(digits.x_test), atol=1e-6)
    samples = model.sample(6, gibbs_steps=100, seed=3)
    assert samples.shape == (6, 64) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, model.sample(6, gibbs_steps=100, seed=3))


# ------------------------------------------------------------------------------------ DBM
def _grads(backend, model, batch):
    """The batch loss and the gradient of every parameter (canonical names)."""
    if backend.__name__.endswith("mxnet"):
        from mxnet import autograd

        with autograd.record():
            loss, _ = model.batch_loss(model._batch(batch))
        loss.backward()
        return {n: p.grad().asnumpy() for n, p in model._canonical_parameters().items()}
    loss, _ = model.batch_loss(model._batch(batch))
    loss.backward()
    return {n: p.grad.detach().numpy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_dbm_loss_gradient_is_minus_the_dbm_learning_rule(backend, visible):
    ab.seed_everything(0)
    model = backend.DeepBoltzmannMachines([5, 4, 3], visible=visible, n_chains=7, gibbs_steps=2)
    randomize(model)
    rng = np.random.default_rng(1)
    v = (rng.random((6, 5)) < 0.5).astype(np.float32)
    grads = _grads(backend, model, Batch(v, v))
    mu1, mu2 = model.mean_field(v)
    c0, c1, c2 = (numpy_of(t) for t in model.chains_)
    assert c0.shape == (7, 5) and set(np.unique(c1)) <= {0.0, 1.0}
    rule = {  # E_data[x_l x_{l+1}^T] - E_model[x_l x_{l+1}^T], E_data[x_l] - E_model[x_l]
        "weight0": v.T @ mu1 / 6 - c0.T @ c1 / 7,
        "weight1": mu1.T @ mu2 / 6 - c1.T @ c2 / 7,
        "bias0": v.mean(0) - c0.mean(0),
        "bias1": mu1.mean(0) - c1.mean(0),
        "bias2": mu2.mean(0) - c2.mean(0),
    }
    assert sorted(grads) == sorted(rule)
    for name, expected in rule.items():
        np.testing.assert_allclose(grads[name], -expected, atol=1e-5, err_msg=name)


def test_mean_field_reaches_a_fixed_point(backend):
    ab.seed_everything(0)
    model = backend.DeepBoltzmannMachines([20, 12, 8, 5], mean_field_steps=200, mean_field_tol=1e-6)
    state = randomize(model, scale=0.3)
    x = np.random.default_rng(2).random((10, 20)).astype(np.float32)
    mu = model.mean_field(x)
    assert [m.shape for m in mu] == [(10, 12), (10, 8), (10, 5)]
    W = [state[f"weight{l}"] for l in range(3)]
    b = [state[f"bias{l}"] for l in range(4)]
    layers = [x] + list(mu)
    for l in range(1, 4):  # one more sweep, by hand
        upper = layers[l + 1] @ W[l].T if l < 3 else 0.0
        updated = sigmoid(layers[l - 1] @ W[l - 1] + upper + b[l])
        assert np.abs(updated - layers[l]).max() < 1e-4
        layers[l] = updated
    np.testing.assert_allclose(model.transform(x, layer=0), mu[0])
    np.testing.assert_allclose(model.extract_feature_points(x), mu[2])
    np.testing.assert_allclose(model.inference(x), sigmoid(mu[0] @ W[0].T + b[0]), atol=1e-5)
    # the graph behind forward / export runs all mean_field_steps sweeps: the same fixed point
    np.testing.assert_allclose(model.apply_numpy(model, x), model.inference(x), atol=1e-5)


def test_pretraining_uses_the_doubling_factors(backend):
    ab.seed_everything(0)
    model = backend.DeepBoltzmannMachines([6, 5, 4, 3], pretrain_epochs=2)
    rbms = model.pretraining_rbms()
    assert [(r.up_factor, r.down_factor) for r in rbms] == [(2.0, 1.0), (1.0, 1.0), (1.0, 2.0)]
    rng = np.random.default_rng(0)
    x = rng.random((9, 6)).astype(np.float32)
    for rbm in rbms:
        randomize(rbm, seed=rbm.n_visible)
    W, b, c = rbms[0]._numpy_params()
    np.testing.assert_allclose(rbms[0].transform(x), sigmoid(2 * x @ W + c), atol=1e-6)
    h = (rng.random((9, 3)) < 0.5).astype(np.float32)
    W, b, c = rbms[2]._numpy_params()
    np.testing.assert_allclose(rbms[2].apply_numpy(rbms[2].visible_mean, h), sigmoid(2 * h @ W.T + b), atol=1e-6)
    # the CD objective of the bottom RBM uses the doubled input: F(v) = -b.v - sum softplus(2 v W + c)
    W, b, c = rbms[0]._numpy_params()
    free = rbms[0].apply_numpy(rbms[0].free_energy_tensor, x)
    np.testing.assert_allclose(free, -x @ b - np.logaddexp(0, 2 * x @ W + c).sum(1), rtol=1e-5)
    # pre-training trains exactly these RBMs and composes them (middle weights halved, biases averaged)
    trained = []
    model.pretraining_rbms = lambda: trained.extend(rbms) or rbms
    model.learn(ArrayIterator(x, batch_size=4, epochs=1, seed=0), progress=False)
    assert len(model.pretrain_histories_) == 3 and all(len(r.history) == 2 for r in trained)


def test_pretraining_composes_weights_and_biases(backend):
    ab.seed_everything(0)
    model = backend.DeepBoltzmannMachines([6, 5, 4, 3], pretrain_epochs=1)
    rbms = model.pretraining_rbms()
    model.pretraining_rbms = lambda: rbms
    x = np.random.default_rng(0).random((12, 6)).astype(np.float32)
    model.pretrain(ArrayIterator(x, batch_size=4, epochs=1, seed=0))
    state, learned = model.export_state(), [r.export_state() for r in rbms]
    np.testing.assert_allclose(state["weight0"], learned[0]["weight"])
    np.testing.assert_allclose(state["weight1"], learned[1]["weight"] / 2)
    np.testing.assert_allclose(state["weight2"], learned[2]["weight"])
    np.testing.assert_allclose(state["bias0"], learned[0]["visible_bias"])
    np.testing.assert_allclose(state["bias1"], (learned[0]["hidden_bias"] + learned[1]["visible_bias"]) / 2)
    np.testing.assert_allclose(state["bias2"], (learned[1]["hidden_bias"] + learned[2]["visible_bias"]) / 2)
    np.testing.assert_allclose(state["bias3"], learned[2]["hidden_bias"])


def test_dbm_reconstructs_test_digits_and_evaluation_leaves_the_chains(backend, digits):
    ab.seed_everything(0)
    model = backend.DeepBoltzmannMachines([64, 100, 32], pretrain_epochs=20)  # default optimizer
    data = digits_data(digits, epochs=5)
    model.learn(data, progress=False)
    mse = float(np.mean((model.inference(digits.x_test) - digits.x_test) ** 2))
    assert mse < 0.6 * mean_image_mse(digits)
    assert len(model.pretrain_histories_) == 2
    assert [numpy_of(c).shape for c in model.chains_] == [(100, 64), (100, 100), (100, 32)]
    before = [numpy_of(c).copy() for c in model.chains_]
    model.evaluate(data)
    for old, new in zip(before, model.chains_):
        np.testing.assert_array_equal(old, numpy_of(new))
    samples = model.sample(5, gibbs_steps=50, seed=0)
    assert samples.shape == (5, 64) and samples.min() >= 0 and samples.max() <= 1
    codes = model.encode(digits.x_test[:10])
    assert model.decode(codes).shape == (10, 64)


# ------------------------------------------------------------------------------------ parity
@pytest.mark.parity
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_dbn_parity(both_backends, tiny, visible):
    tb, mb = both_backends
    ab.seed_everything(0)
    t = tb.DeepBeliefNetworks([12, 8, 5, 3], visible=visible)
    m = mb.DeepBeliefNetworks([12, 8, 5, 3], visible=visible)
    m.import_state(randomize(t))
    x = tiny[0]
    for method in ("inference", "encode"):
        np.testing.assert_allclose(getattr(t, method)(x), getattr(m, method)(x), atol=1e-5, err_msg=method)
    code = t.encode(x)
    np.testing.assert_allclose(t.decode(code), m.decode(code), atol=1e-5)
    np.testing.assert_allclose(m.inference(x), m.decode(m.encode(x)), atol=1e-5)  # hybrid graph = core math
    assert t.n_parameters == m.n_parameters


@pytest.mark.parity
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_dbm_parity(both_backends, tiny, visible):
    tb, mb = both_backends
    ab.seed_everything(0)
    config = dict(units=[12, 8, 5, 3], visible=visible, mean_field_steps=30, mean_field_tol=0.0)
    t, m = tb.DeepBoltzmannMachines(**config), mb.DeepBoltzmannMachines(**config)
    m.import_state(randomize(t, scale=0.4))
    x = tiny[0]
    for a, b in zip(t.mean_field(x), m.mean_field(x)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(t.inference(x), m.inference(x), atol=1e-5)
    np.testing.assert_allclose(t.apply_numpy(t, x), m.apply_numpy(m, x), atol=1e-5)  # forward graphs
    code = t.transform(x)
    np.testing.assert_allclose(t.decode(code), m.decode(code), atol=1e-5)
    states = [x, *t.mean_field(x)]
    np.testing.assert_allclose(t.apply_numpy(lambda v: t.energy_tensor([v] + [t._tensor(s) for s in states[1:]]), x),
                               m.apply_numpy(lambda v: m.energy_tensor([v] + [m._tensor(s) for s in states[1:]]), x),
                               rtol=1e-5, atol=1e-4)
    assert t.n_parameters == m.n_parameters
