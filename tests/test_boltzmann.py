"""Restricted Boltzmann machines against their math, in both backends."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models.likelihood import rbm_grad_exact
from accelbrainbase.data import ArrayIterator


def all_binary(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)), dtype=np.float32)


def random_rbm(backend, n_visible=6, n_hidden=4, visible="bernoulli", scale=0.8, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    rbm = backend.RestrictedBoltzmannMachines(n_visible, n_hidden, visible=visible, **kwargs)
    rbm.import_state({"weight": rng.normal(0, scale, (n_visible, n_hidden)).astype(np.float32),
                      "visible_bias": rng.normal(0, 0.5, n_visible).astype(np.float32),
                      "hidden_bias": rng.normal(0, 0.5, n_hidden).astype(np.float32)})
    return rbm


def energy(v, h, W, b, c, visible="bernoulli"):
    visible_term = -v @ b if visible == "bernoulli" else 0.5 * np.sum((v - b) ** 2, axis=-1)
    return visible_term - h @ c - np.einsum("...i,ij,...j->...", v, W, h)


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_backend_free_energy_is_the_marginal_over_hidden_states(backend, visible):
    rbm = random_rbm(backend, visible=visible)
    W, b, c = (rbm.export_state()[k].astype(np.float64) for k in ("weight", "visible_bias", "hidden_bias"))
    v = np.random.default_rng(1).random((5, 6)).astype(np.float32)
    if visible == "bernoulli":
        v = (v > 0.5).astype(np.float32)
    hs = all_binary(4).astype(np.float64)
    brute = -np.log(np.exp(-energy(v[:, None, :], hs[None], W, b, c, visible)).sum(axis=1))
    computed = rbm.apply_numpy(rbm.free_energy_tensor, v)  # the backend's own math
    np.testing.assert_allclose(computed, brute, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rbm.free_energy(v), brute, rtol=1e-9, atol=1e-9)


def test_exact_log_likelihood_matches_brute_force(backend):
    rbm = random_rbm(backend, n_visible=5, n_hidden=3)
    W, b, c = (rbm.export_state()[k].astype(np.float64) for k in ("weight", "visible_bias", "hidden_bias"))
    vs, hs = all_binary(5).astype(np.float64), all_binary(3).astype(np.float64)
    unnormalised = np.exp(-energy(vs[:, None, :], hs[None], W, b, c))
    log_z = np.log(unnormalised.sum())
    assert rbm.log_partition() == pytest.approx(log_z, abs=1e-9)
    np.testing.assert_allclose(rbm.log_likelihood(vs), np.log(unnormalised.sum(axis=1)) - log_z, atol=1e-9)


def test_ais_estimate_is_within_half_a_nat_of_the_exact_log_partition(backend):
    rbm = random_rbm(backend, n_visible=20, n_hidden=15, scale=0.5, seed=3)
    exact = rbm.log_partition()
    estimate = rbm.ais_log_partition(n_chains=100, n_betas=3000, seed=0)
    assert abs(estimate.log_z - exact) < 0.5
    assert estimate.lower <= estimate.log_z <= estimate.upper


def test_conditionals_and_samples(backend):
    ab.seed_everything(0)
    rbm = random_rbm(backend)
    W, b, c = (rbm.export_state()[k] for k in ("weight", "visible_bias", "hidden_bias"))
    v = all_binary(6)
    np.testing.assert_allclose(rbm.transform(v), 1 / (1 + np.exp(-(v @ W + c))), atol=1e-6)
    h = rbm.sample_hidden(np.repeat(v[:1], 4000, axis=0))
    assert set(np.unique(h)) <= {0.0, 1.0}
    np.testing.assert_allclose(h.mean(0), rbm.transform(v[:1])[0], atol=0.03)
    samples = rbm.sample_visible(np.ones((4000, 4), dtype=np.float32))
    np.testing.assert_allclose(samples.mean(0), 1 / (1 + np.exp(-(W.sum(1) + b))), atol=0.03)
    expected_reconstruction = 1 / (1 + np.exp(-(rbm.transform(v) @ W.T + b)))
    np.testing.assert_allclose(rbm.reconstruct(v), expected_reconstruction, atol=1e-6)
    assert rbm.gibbs(v, steps=5).shape == v.shape
    with pytest.raises(ab.ShapeError, match="expected 4, got 3"):
        rbm.sample_visible(np.ones((2, 3)))


def test_gibbs_sampling_reaches_the_model_distribution(backend):
    """Long Gibbs chains visit visible states with the exact model probabilities."""
    ab.seed_everything(0)
    rbm = random_rbm(backend, n_visible=4, n_hidden=3, scale=1.0)
    chains = rbm.gibbs(np.zeros((20000, 4), dtype=np.float32), steps=30)
    codes = chains @ (2 ** np.arange(4))
    empirical = np.bincount(codes.astype(int), minlength=16) / len(codes)
    exact = np.exp(rbm.log_likelihood(all_binary(4)))
    assert np.abs(empirical - exact[np.argsort(all_binary(4) @ (2 ** np.arange(4)))]).max() < 0.015


def test_cd_update_points_along_the_exact_gradient(backend):
    """The CD-1 update (one SGD step on the free-energy objective) has positive cosine
    similarity with the exact log-likelihood gradient, averaged over many mini-batches."""
    ab.seed_everything(0)
    rbm = random_rbm(backend, n_visible=6, n_hidden=4, scale=0.5,
                     optimizer=ab.OptimizerSpec("sgd", learning_rate=1.0))
    initial = rbm.export_state()
    data = (np.random.default_rng(5).random((400, 6)) < [0.9, 0.8, 0.2, 0.1, 0.7, 0.3]).astype(np.float32)
    cosines = []
    for start in range(0, 400, 20):
        batch = data[start:start + 20]
        rbm.import_state(initial)
        rbm.resolve_logs(rbm.learn_step(ab.Batch(batch, batch)))
        after = rbm.export_state()
        dW, db, dc = rbm_grad_exact(batch, initial["weight"], initial["visible_bias"], initial["hidden_bias"])
        step = np.concatenate([(after[k] - initial[k]).ravel() for k in ("weight", "visible_bias", "hidden_bias")])
        exact = np.concatenate([dW.ravel(), db.ravel(), dc.ravel()])
        cosines.append(step @ exact / (np.linalg.norm(step) * np.linalg.norm(exact)))
    assert np.mean(cosines) > 0.5


@pytest.fixture(scope="module")
def binary_digits():
    from accelbrainbase.data import load_digits

    digits = load_digits()
    return (digits.x_train > 0.5).astype(np.float32), (digits.x_test > 0.5).astype(np.float32)


def test_cd1_and_pcd_raise_the_exact_test_log_likelihood(backend, binary_digits):
    train, test = binary_digits
    results = {}
    for persistent in (False, True):
        ab.seed_everything(0)
        # PCD needs a decaying learning rate for its chains to track the model (Tieleman 2008)
        schedule = ab.OptimizerSpec("momentum", learning_rate=0.1, momentum=0.5, decay_rate=0.85)
        rbm = backend.RestrictedBoltzmannMachines(64, 16, persistent=persistent, optimizer=schedule)
        initial = rbm.log_likelihood(test).mean()
        rbm.learn(ArrayIterator(train, batch_size=20, epochs=20, seed=0), progress=False)
        results[persistent] = rbm.log_likelihood(test).mean()
        assert results[persistent] > initial + 20  # nats per digit: about -44 -> -20.5
    assert results[True] >= results[False] - 0.25  # PCD reaches at least CD-1's level


def test_persistent_chains_persist_and_test_batches_leave_them_alone(backend, binary_digits):
    train, test = binary_digits
    ab.seed_everything(0)
    rbm = backend.RestrictedBoltzmannMachines(64, 8, persistent=True)
    data = ArrayIterator(train[:100], test_x=test[:40], batch_size=25, epochs=1, seed=0)
    rbm.learn(data, progress=False)
    assert rbm.chains_ is not None
    before = _to_numpy(rbm.chains_)
    assert not np.array_equal(before, train[:25])  # advanced from their start at the first batch
    rbm.evaluate(data)
    np.testing.assert_array_equal(_to_numpy(rbm.chains_), before)
    assert before.shape == (25, 64)


def _to_numpy(t):
    return t.asnumpy() if hasattr(t, "asnumpy") else t.detach().cpu().numpy()


def test_gaussian_visible_units_learn_a_gaussian_mixture(backend):
    """Real-valued data from 4 unit-variance Gaussian clusters in 6-D: a Gaussian-Bernoulli RBM
    with 4 hidden units can represent it; its exact test log-density ends within 1 nat of the
    true mixture's (from about 10 nats below)."""
    rng = np.random.default_rng(0)
    centers = rng.choice([-2.0, 2.0], size=(4, 6))

    def draw(n):
        return (centers[rng.integers(0, 4, n)] + rng.normal(0, 1, (n, 6))).astype(np.float32)

    train, test = draw(2000), draw(500)
    squared = ((test[:, None, :] - centers[None]) ** 2).sum(-1)
    true_density = np.mean(np.log(np.exp(-squared / 2).mean(1)) - 3 * np.log(2 * np.pi))
    ab.seed_everything(0)
    rbm = backend.RestrictedBoltzmannMachines(6, 4, visible="gaussian",
                                              optimizer=ab.OptimizerSpec("momentum", learning_rate=0.02))
    initial = rbm.log_likelihood(test).mean()
    rbm.learn(ArrayIterator(train, test_x=test, batch_size=20, epochs=10, seed=0), progress=False)
    assert initial < true_density - 8
    assert rbm.log_likelihood(test).mean() > true_density - 1.0


def test_gaussian_pseudo_log_likelihood_is_the_conditional_density(backend):
    """log p(v_i | v_-i) = -F(v) - log integral exp(-F(v_-i, t)) dt, the integral summed on a
    fine grid of the model's own free energy; 0/1 data must not get the Bernoulli formula."""
    rbm = random_rbm(backend, visible="gaussian", scale=1.0)
    rng = np.random.default_rng(2)
    v = np.concatenate([rng.normal(0.0, 1.5, (3, 6)), (rng.random((1, 6)) < 0.5)]).astype(np.float32)
    grid = np.linspace(-30.0, 30.0, 6001)
    brute = np.zeros(len(v))
    for n, x in enumerate(v.astype(np.float64)):
        for i in range(6):
            moved = np.repeat(x[None], len(grid), axis=0)
            moved[:, i] = grid
            log_f = -rbm.free_energy(moved)
            top = log_f.max()
            brute[n] += -rbm.free_energy(x[None])[0] - top - np.log(np.exp(log_f - top).sum() * (grid[1] - grid[0]))
    np.testing.assert_allclose(rbm.pseudo_log_likelihood(v, exact=True), brute, rtol=1e-7)
    draws = np.stack([rbm.pseudo_log_likelihood(v, seed=s) for s in range(300)])
    assert np.abs(draws.mean(0) - brute).max() < 0.2 * np.abs(brute).max()


def test_bad_hyper_parameters(backend):
    with pytest.raises(ab.InputError, match="unknown visible units 'poisson'; valid: bernoulli, gaussian"):
        backend.RestrictedBoltzmannMachines(4, 2, visible="poisson")
    with pytest.raises(ab.InputError, match="k must be"):
        backend.RestrictedBoltzmannMachines(4, 2, k=0)
    with pytest.raises(ab.InputError, match="n_hidden"):
        backend.RestrictedBoltzmannMachines(4, -2)
    with pytest.raises(ab.InputError, match="ais_log_partition"):
        backend.RestrictedBoltzmannMachines(30, 25).log_partition()


@pytest.mark.parity
def test_parity_with_the_same_weights_and_random_draws(both_backends, monkeypatch):
    tb, mb = both_backends
    t = random_rbm(tb, n_visible=6, n_hidden=4)
    m = mb.RestrictedBoltzmannMachines(6, 4)
    m.import_state(t.export_state())
    v = all_binary(6)
    np.testing.assert_allclose(t.transform(v), m.transform(v), atol=1e-6)
    np.testing.assert_allclose(t.inference(v), m.inference(v), atol=1e-6)
    np.testing.assert_allclose(t.apply_numpy(t.free_energy_tensor, v), m.apply_numpy(m.free_energy_tensor, v),
                               atol=1e-5)

    def shared_draws(model):
        rng = np.random.default_rng(42)
        convert = model._tensor
        monkeypatch.setattr(type(model.ops), "uniform_like",
                            staticmethod(lambda x: convert(rng.random(tuple(x.shape)).astype(np.float32))))
        return model.gibbs(v, steps=3)

    np.testing.assert_array_equal(shared_draws(t), shared_draws(m))


@pytest.mark.parity
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_parity_of_the_forward_graph_with_dbm_pretraining_factors(both_backends, visible):
    """DBM pre-training doubles an RBM's bottom-up or top-down input: the forward graph
    (hybridized in mxnet) uses the factors, and follows them when they change."""
    tb, mb = both_backends
    t = random_rbm(tb, visible=visible)
    m = mb.RestrictedBoltzmannMachines(6, 4, visible=visible)
    m.import_state(t.export_state())
    v = np.random.default_rng(4).random((7, 6)).astype(np.float32)
    W, b, c = (t.export_state()[k] for k in ("weight", "visible_bias", "hidden_bias"))
    plain = m.inference(v)  # builds the graph with factors 1
    for up, down in [(2.0, 1.0), (1.0, 2.0), (2.0, 2.0)]:
        for model in (t, m):
            model.up_factor, model.down_factor = up, down
        pre = down * (1 / (1 + np.exp(-(up * v @ W + c)))) @ W.T + b
        expected = 1 / (1 + np.exp(-pre)) if visible == "bernoulli" else pre
        np.testing.assert_allclose(t.inference(v), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m.inference(v), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m.inference(v), m.apply_numpy(m.forward_math, v), rtol=1e-5, atol=1e-6)
    assert not np.allclose(m.inference(v), plain)
