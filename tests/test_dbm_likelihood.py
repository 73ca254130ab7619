"""DBM likelihood quantities (accelbrainbase.models.dbm_likelihood and the DeepBoltzmannMachines
methods) checked against brute-force math."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models import likelihood as rbm
from accelbrainbase.models.dbm_likelihood import (
    ais_log_partition, energy, log_likelihood_exact, log_partition_exact, variational_lower_bound,
)
from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.models.likelihood import AISResult
from accelbrainbase.data import ArrayIterator


def _model(units, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, scale, (a, b)) for a, b in zip(units[:-1], units[1:])]
    biases = [rng.normal(0, 0.5, a) for a in units]
    return weights, biases


def _all_binary(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n))).reshape(-1, n)


def _logsumexp(a, axis=None):
    a = np.asarray(a)
    m = a.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    return out.squeeze(axis) if axis is not None else float(out.ravel()[0])


def _brute_energy(xs, weights, biases, visible="bernoulli"):
    """E(v, h1, ..., hL) for rows of each layer, straight from the definition."""
    e = -sum(np.sum((xs[l] @ w) * xs[l + 1], axis=1) for l, w in enumerate(weights))
    e = e - sum(xs[l] @ biases[l] for l in range(1, len(xs)))
    if visible == "bernoulli":
        return e - xs[0] @ biases[0]
    return e + 0.5 * np.sum((xs[0] - biases[0]) ** 2, axis=1)


def _joint_states(units):
    grid = _all_binary(sum(units))
    cut = np.cumsum([0] + list(units))
    return [grid[:, cut[i]:cut[i + 1]] for i in range(len(units))]


def _brute_log_z(weights, biases):
    units = [len(b) for b in biases]
    return _logsumexp(-_brute_energy(_joint_states(units), weights, biases))


def _parity_size(units, parity):
    return sum(units[parity::2])


# ----------------------------------------------------------------------------- energy, exact log Z
def test_energy_matches_the_definition():
    weights, biases = _model([4, 3, 2, 3], seed=1)
    xs = [s[::7] for s in _joint_states([4, 3, 2, 3])]
    np.testing.assert_allclose(energy(xs, weights, biases), _brute_energy(xs, weights, biases), atol=1e-12)


@pytest.mark.parametrize("units", [[3, 4, 2], [5, 2, 3], [2, 3, 2, 3], [3, 2, 3, 2, 2]])
def test_log_partition_matches_brute_force_over_all_layers(units):
    # [3, 4, 2] and [3, 2, 3, 2, 2] enumerate the even layers, [5, 2, 3] and [2, 3, 2, 3] the odd
    # ones; max_units = the smaller parity class passes only if that class is the one enumerated.
    weights, biases = _model(units, seed=sum(units))
    smaller = min(_parity_size(units, 0), _parity_size(units, 1))
    got = log_partition_exact(weights, biases, max_units=smaller)
    assert got == pytest.approx(_brute_log_z(weights, biases), abs=1e-10)


def test_one_hidden_layer_is_an_rbm_and_chunks_agree():
    # [15, 17]: the 2**15 visible states span two enumeration chunks of 2**14.
    weights, biases = _model([15, 17], seed=3, scale=0.3)
    expected = rbm.log_partition_exact(weights[0], biases[0], biases[1])
    assert log_partition_exact(weights, biases) == pytest.approx(expected, abs=1e-9)
    v = _all_binary(15)[::997]
    np.testing.assert_allclose(log_likelihood_exact(v, weights, biases),
                               rbm.log_likelihood_exact(v, weights[0], biases[0], biases[1]), atol=1e-9)


def test_exact_log_likelihood_is_normalised_and_matches_brute_force():
    units = [3, 2, 3, 2]
    weights, biases = _model(units, seed=5)
    v = _all_binary(3)
    got = log_likelihood_exact(v, weights, biases)
    assert np.exp(got).sum() == pytest.approx(1.0, abs=1e-12)
    hs = _joint_states(units[1:])
    brute = [_logsumexp(-_brute_energy([np.repeat(x[None], len(hs[0]), 0)] + hs, weights, biases))
             for x in v]
    np.testing.assert_allclose(got, np.array(brute) - _brute_log_z(weights, biases), atol=1e-10)


def test_gaussian_visible_log_partition_matches_numerical_integration():
    units = [2, 3, 2]
    weights, biases = _model(units, seed=6, scale=0.6)
    grid = np.linspace(-12, 12, 481)
    dv = grid[1] - grid[0]
    pts = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1).reshape(-1, 2)
    hs = _joint_states(units[1:])
    # log sum_h exp(-E(v, h)) at each grid point, then a Riemann sum over v
    log_inner = np.stack([
        -_brute_energy([pts, np.repeat(hs[0][i:i + 1], len(pts), 0), np.repeat(hs[1][i:i + 1], len(pts), 0)],
                       weights, biases, "gaussian")
        for i in range(len(hs[0]))])
    numeric = _logsumexp(_logsumexp(log_inner, axis=0)) + 2 * np.log(dv)
    assert log_partition_exact(weights, biases, visible="gaussian") == pytest.approx(numeric, abs=1e-6)
    # and a Gaussian one-hidden-layer DBM is a Gaussian RBM
    w1, b1 = _model([3, 4], seed=7)
    assert log_partition_exact(w1, b1, visible="gaussian") == pytest.approx(
        rbm.log_partition_exact(w1[0], b1[0], b1[1], visible="gaussian"), abs=1e-10)


def test_too_many_units_and_bad_inputs_are_clear_errors():
    weights, biases = _model([30, 25, 30], scale=0.1)
    with pytest.raises(InputError, match=r"2\*\*25 states of the odd .* ais_log_partition"):
        log_partition_exact(weights, biases)
    with pytest.raises(InputError, match="Gaussian visible units are continuous"):
        log_partition_exact(*_model([3, 30, 2]), visible="gaussian")
    with pytest.raises(ShapeError, match="must chain"):
        log_partition_exact([np.zeros((3, 4)), np.zeros((5, 2))], [np.zeros(3), np.zeros(4), np.zeros(2)])
    with pytest.raises(InputError, match="biases must be a list of len"):
        log_partition_exact([np.zeros((3, 4))], [np.zeros(3)])
    with pytest.raises(ShapeError, match=r"biases\[1\] must have shape \(4,\)"):
        log_partition_exact([np.zeros((3, 4))], [np.zeros(3), np.zeros(5)])
    w, b = _model([3, 2, 2])
    with pytest.raises(InputError, match="binary"):
        log_likelihood_exact(np.full((2, 3), 0.5), w, b)
    with pytest.raises(InputError, match="unknown visible unit type"):
        log_partition_exact(w, b, visible="poisson")
    with pytest.raises(InputError, match=r"mu\[0\] must lie in \[0, 1\]"):
        variational_lower_bound(np.ones((1, 3)), w, b, [np.full((1, 2), 1.5), np.zeros((1, 2))], 0.0)


# ----------------------------------------------------------------------------- AIS
@pytest.mark.parametrize("units,visible,scale", [
    ([30, 16, 20], "bernoulli", 1.0),    # 16 odd units enumerated; strong weights (log Z ~ 108)
    ([20, 8, 12, 8], "bernoulli", 0.3),  # three hidden layers, h1 + h3 = 16 enumerated
    ([6, 16, 10], "gaussian", 0.3),      # Gaussian v is integrated out of every intermediate model
])
def test_ais_is_within_half_a_nat_of_exact_log_z(units, visible, scale):
    weights, biases = _model(units, seed=len(units) + (scale == 1.0), scale=scale)
    exact = log_partition_exact(weights, biases, visible=visible)
    result = ais_log_partition(weights, biases, visible=visible, n_chains=100, n_betas=3000, seed=0)
    assert isinstance(result, AISResult) and result.log_weights.shape == (100,)
    assert abs(result.log_z - exact) < 0.5
    assert result.lower <= result.log_z <= result.upper and result.log_z_std < 0.5
    again = ais_log_partition(weights, biases, visible=visible, n_chains=100, n_betas=3000, seed=0)
    assert again.log_z == result.log_z  # seeded


def test_ais_with_zero_weights_is_exact():
    # the base model is the target (same biases): every importance weight is exactly 1
    weights, biases = _model([5, 4, 3], seed=2)
    weights = [np.zeros_like(w) for w in weights]
    result = ais_log_partition(weights, biases, n_chains=10, n_betas=20, seed=0)
    assert result.log_z == pytest.approx(log_partition_exact(weights, biases), abs=1e-12)
    np.testing.assert_allclose(result.log_weights, 0.0, atol=1e-12)


# ----------------------------------------------------------------------------- variational bound
def _numpy_mean_field(v, weights, biases, steps=200):
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
    mu = [np.full((len(v), len(b)), 0.5) for b in biases[1:]]
    xs = [v] + mu
    for _ in range(steps):
        for l in range(1, len(xs)):
            pre = xs[l - 1] @ weights[l - 1] + biases[l]
            if l < len(weights):
                pre = pre + xs[l + 1] @ weights[l].T
            xs[l] = sig(pre)
    return xs[1:]


def test_bound_is_below_exact_and_equals_it_for_one_hidden_layer():
    v = _all_binary(6)
    weights, biases = _model([6, 5, 4], seed=8)
    exact = log_likelihood_exact(v, weights, biases)
    log_z = log_partition_exact(weights, biases)
    for mu in (_numpy_mean_field(v, weights, biases),
               [np.full((len(v), 5), 0.3), np.full((len(v), 4), 0.9)]):  # any q gives a bound
        bound = variational_lower_bound(v, weights, biases, mu, log_z)
        assert bound.shape == (len(v),) and np.all(bound <= exact + 1e-10)
    # one hidden layer: p(h | v) = sigmoid(v W + c) is factorised, so the bound is exact
    w1, b1 = _model([6, 5], seed=9)
    mu = [1.0 / (1.0 + np.exp(-(v @ w1[0] + b1[1])))]
    np.testing.assert_allclose(variational_lower_bound(v, w1, b1, mu, log_partition_exact(w1, b1)),
                               rbm.log_likelihood_exact(v, w1[0], b1[0], b1[1]), atol=1e-10)


def test_gaussian_bound_is_below_the_exact_log_density():
    rng = np.random.default_rng(0)
    weights, biases = _model([4, 3, 3], seed=10, scale=0.5)
    v = rng.normal(0, 1.5, (20, 4))
    exact = log_likelihood_exact(v, weights, biases, visible="gaussian")
    mu = _numpy_mean_field(v, weights, biases)
    bound = variational_lower_bound(v, weights, biases, mu, log_partition_exact(weights, biases, "gaussian"),
                                    visible="gaussian")
    assert np.all(bound <= exact + 1e-10) and np.all(exact - bound < 2.0)


# ----------------------------------------------------------------------------- model methods
def _set_state(model, weights, biases):
    state = {f"weight{l}": w.astype(np.float32) for l, w in enumerate(weights)}
    state.update({f"bias{l}": b.astype(np.float32) for l, b in enumerate(biases)})
    model.import_state(state)
    return ([state[f"weight{l}"].astype(np.float64) for l in range(len(weights))],
            [state[f"bias{l}"].astype(np.float64) for l in range(len(biases))])


def test_model_methods_match_the_numpy_functions(backend):
    # Both backends share the NumPy code: equal to the reference on the same float32 weights.
    model = backend.DeepBoltzmannMachines([10, 6, 5], mean_field_steps=50, mean_field_tol=0.0)
    weights, biases = _set_state(model, *_model([10, 6, 5], seed=11, scale=0.5))
    assert model.log_partition() == pytest.approx(log_partition_exact(weights, biases), abs=1e-9)
    ais = model.ais_log_partition(n_chains=20, n_betas=200, seed=3)
    assert ais.log_z == pytest.approx(ais_log_partition(weights, biases, n_chains=20, n_betas=200, seed=3).log_z,
                                      abs=1e-9)
    v = (np.random.default_rng(0).random((30, 10)) < 0.5).astype(np.float32)
    bound = model.log_likelihood_lower_bound(v)
    reference = variational_lower_bound(v, weights, biases, _numpy_mean_field(v, weights, biases),
                                        log_partition_exact(weights, biases))
    np.testing.assert_allclose(bound, reference, atol=1e-4)
    assert np.all(bound <= log_likelihood_exact(v, weights, biases) + 1e-6)
    shifted = model.log_likelihood_lower_bound(v, log_z=model.log_partition() + 1.0)
    np.testing.assert_allclose(shifted, bound - 1.0, atol=1e-9)
    big = backend.DeepBoltzmannMachines([30, 25, 30])
    with pytest.raises(InputError, match="ais_log_partition"):
        big.log_likelihood_lower_bound(v[:, :1].repeat(30, axis=1))


def test_one_hidden_layer_model_bound_is_the_rbm_likelihood(backend):
    model = backend.DeepBoltzmannMachines([8, 6], mean_field_steps=1)
    weights, biases = _set_state(model, *_model([8, 6], seed=12, scale=0.7))
    v = _all_binary(8)[::5].astype(np.float32)
    np.testing.assert_allclose(model.log_likelihood_lower_bound(v),
                               rbm.log_likelihood_exact(v, weights[0], biases[0], biases[1]), atol=2e-4)


def test_bound_of_a_trained_tiny_model_is_tight(backend, digits):
    # 64-10-8 DBM on binarized digits: 10 odd units make log Z and log p(v) exact.
    train = (digits.x_train[:400] > 0.5).astype(np.float32)
    test = (digits.x_test[:100] > 0.5).astype(np.float32)
    ab.seed_everything(0)
    model = backend.DeepBoltzmannMachines([64, 10, 8], pretrain_epochs=3, n_chains=50)
    model.learn(ArrayIterator(train, batch_size=20, epochs=3, seed=0), progress=False)
    weights = [w.astype(np.float64) for w in model._numpy_dbm_params()[0]]
    biases = [b.astype(np.float64) for b in model._numpy_dbm_params()[1]]
    exact = log_likelihood_exact(test, weights, biases)
    bound = model.log_likelihood_lower_bound(test, mean_field_steps=50)
    assert np.all(bound <= exact + 1e-4)
    assert float(np.mean(exact - bound)) < 3.0
    # AIS on a trained (multi-modal) model agrees with the exact log Z
    ais = model.ais_log_partition(n_chains=100, n_betas=2000, seed=0)
    assert abs(ais.log_z - model.log_partition()) < 0.5
    # training helped: better than the untrained (all-zero-ish) model's ~ -64 log 2 nats
    assert float(np.mean(exact)) > -64 * np.log(2) + 10
