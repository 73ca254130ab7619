"""RBM likelihood quantities (accelbrainbase.models.likelihood) checked against brute-force math."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.models.likelihood import (
    AISResult, ais_log_partition, free_energy, log_likelihood_exact, log_partition_exact,
    pseudo_log_likelihood, rbm_grad_exact,
)


def _model(n_v, n_h, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, (n_v, n_h)), rng.normal(0, 0.5, n_v), rng.normal(0, 0.5, n_h)


def _all_binary(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _energy(v, h, W, b, c, visible):
    """E(v, h) for one v and one h, written straight from the definition."""
    inter = v @ W @ h
    if visible == "bernoulli":
        return -(b @ v) - (c @ h) - inter
    return 0.5 * np.sum((v - b) ** 2) - (c @ h) - inter


def _logsumexp(a):
    a = np.asarray(a)
    m = a.max()
    return m + np.log(np.exp(a - m).sum())


# ----------------------------------------------------------------------------- free energy
@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_free_energy_matches_sum_over_hidden_states(visible):
    W, b, c = _model(5, 4, seed=1, scale=1.0)
    rng = np.random.default_rng(2)
    v = _all_binary(5)[::3] if visible == "bernoulli" else rng.normal(0, 1.5, (7, 5))
    hs = _all_binary(4)
    brute = np.array([-_logsumexp([-_energy(x, h, W, b, c, visible) for h in hs]) for x in v])
    got = free_energy(v, W, b, c, visible=visible)
    assert got.shape == (len(v),)
    np.testing.assert_allclose(got, brute, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- exact log Z
@pytest.mark.parametrize("n_v,n_h", [(6, 3), (3, 6), (4, 4)])
def test_log_partition_matches_brute_force_over_v_and_h(n_v, n_h):
    # (6, 3) enumerates h, (3, 6) enumerates v, (4, 4) the tie (h).
    W, b, c = _model(n_v, n_h, seed=n_v * 10 + n_h, scale=1.0)
    terms = [-_energy(v, h, W, b, c, "bernoulli") for v in _all_binary(n_v) for h in _all_binary(n_h)]
    # max_units = the smaller layer: passes only if the smaller layer is the one enumerated
    got = log_partition_exact(W, b, c, max_units=min(n_v, n_h))
    assert got == pytest.approx(_logsumexp(terms), abs=1e-10)


def test_log_partition_chunks_agree_with_a_single_pass():
    # 2**15 visible states span two enumeration chunks of 2**14.
    W, b, c = _model(15, 17, seed=3, scale=0.3)
    vs = _all_binary(15)
    direct = _logsumexp(-free_energy(vs, W, b, c))
    assert log_partition_exact(W, b, c) == pytest.approx(direct, abs=1e-9)


@pytest.mark.parametrize("n_v,n_h", [(1, 3), (2, 2)])
def test_gaussian_log_partition_matches_numerical_integration(n_v, n_h):
    W, b, c = _model(n_v, n_h, seed=4, scale=0.8)
    hs = _all_binary(n_h)
    grid = np.linspace(-14, 14, 1401 if n_v == 1 else 561)
    dv = grid[1] - grid[0]
    pts = np.stack(np.meshgrid(*([grid] * n_v), indexing="ij"), axis=-1).reshape(-1, n_v)
    # integrand sum_h exp(-E(v, h)), evaluated from the energy definition
    log_terms = np.stack([
        -0.5 * ((pts - b) ** 2).sum(1) + c @ h + pts @ (W @ h) for h in hs
    ])
    m = log_terms.max()
    integral = np.log(np.exp(log_terms - m).sum() * dv ** n_v) + m
    assert log_partition_exact(W, b, c, visible="gaussian") == pytest.approx(integral, abs=1e-6)
    # and the density integrates to one
    dens = np.exp(log_likelihood_exact(pts, W, b, c, visible="gaussian"))
    assert dens.sum() * dv ** n_v == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("n_v,n_h", [(6, 4), (4, 7)])
def test_exact_likelihoods_of_all_binary_vectors_sum_to_one(n_v, n_h):
    W, b, c = _model(n_v, n_h, seed=5, scale=1.0)
    ll = log_likelihood_exact(_all_binary(n_v), W, b, c)
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-12)


# ----------------------------------------------------------------------------- AIS
def test_ais_matches_exact_log_partition_bernoulli():
    W, b, c = _model(20, 15, seed=0, scale=0.5)
    exact = log_partition_exact(W, b, c)
    res = ais_log_partition(W, b, c, n_chains=100, n_betas=3000, seed=0)
    assert isinstance(res, AISResult)
    assert res.log_weights.shape == (100,)
    assert abs(res.log_z - exact) < 0.15, (res.log_z, exact)
    assert res.lower <= res.log_z <= res.upper
    assert 0 < res.log_z_std < 0.1


def test_ais_matches_exact_log_partition_gaussian():
    W, b, c = _model(20, 10, seed=1, scale=0.3)
    exact = log_partition_exact(W, b, c, visible="gaussian")
    res = ais_log_partition(W, b, c, visible="gaussian", n_chains=100, n_betas=3000, seed=1)
    assert abs(res.log_z - exact) < 0.15, (res.log_z, exact)


@pytest.mark.parametrize("visible", ["bernoulli", "gaussian"])
def test_ais_is_exact_without_weights(visible):
    # W = 0 and base bias b: every p_k(v) is the base distribution, so all importance weights
    # agree and the estimate is exact; this pins log Z_A and the weight bookkeeping.
    _, b, c = _model(6, 5, seed=6)
    W = np.zeros((6, 5))
    res = ais_log_partition(W, b, c, visible=visible, n_chains=8, n_betas=50, seed=0)
    assert res.log_z == pytest.approx(log_partition_exact(W, b, c, visible=visible), abs=1e-10)
    assert res.log_z_std == pytest.approx(0.0, abs=1e-12)


def test_ais_with_zero_base_bias():
    W, b, c = _model(12, 8, seed=13)
    res = ais_log_partition(W, b, c, n_chains=100, n_betas=3000, seed=2, base_visible_bias=np.zeros(12))
    assert abs(res.log_z - log_partition_exact(W, b, c)) < 0.15


def test_ais_custom_betas_and_seeding():
    W, b, c = _model(8, 6, seed=7)
    betas = np.linspace(0, 1, 500)
    r1 = ais_log_partition(W, b, c, n_chains=20, betas=betas, seed=3)
    r2 = ais_log_partition(W, b, c, n_chains=20, betas=betas, seed=3)
    np.testing.assert_array_equal(r1.log_weights, r2.log_weights)
    assert abs(r1.log_z - log_partition_exact(W, b, c)) < 0.2
    with pytest.raises(InputError, match="betas"):
        ais_log_partition(W, b, c, betas=[0.0, 0.7, 0.5, 1.0])
    with pytest.raises(InputError, match="betas"):
        ais_log_partition(W, b, c, betas=[0.1, 1.0])


# ----------------------------------------------------------------------------- PLL
def test_stochastic_pll_averages_to_exact_pll():
    W, b, c = _model(8, 5, seed=8, scale=1.0)
    rng = np.random.default_rng(9)
    v = (rng.random((6, 8)) < 0.5).astype(float)
    exact = pseudo_log_likelihood(v, W, b, c, exact=True)
    # brute force: sum_i log p(v_i | v_-i) from the joint over all 2**8 vectors
    ll = log_likelihood_exact(_all_binary(8), W, b, c)
    table = {tuple(x): l for x, l in zip(_all_binary(8), ll)}
    brute = []
    for x in v:
        s = 0.0
        for i in range(8):
            y = x.copy()
            y[i] = 1 - y[i]
            s += table[tuple(x)] - np.logaddexp(table[tuple(x)], table[tuple(y)])
        brute.append(s)
    np.testing.assert_allclose(exact, brute, rtol=1e-10)
    gen = np.random.default_rng(10)
    draws = np.stack([pseudo_log_likelihood(v, W, b, c, rng=gen) for _ in range(4000)])
    np.testing.assert_allclose(draws.mean(0), exact, atol=0.05 * np.abs(exact).max())
    np.testing.assert_array_equal(pseudo_log_likelihood(v, W, b, c, rng=1),
                                  pseudo_log_likelihood(v, W, b, c, rng=1))


def gaussian_conditionals_by_enumeration(v, W, b, c, units=None):
    """log p(v_i | v_-i) (N, n_v) of a Gaussian RBM from its energy, summing over all hidden
    states: the integral over v_i is sqrt(2 pi) exp(b_i m + m^2 / 2) per state, m = (W h)_i."""
    hs = _all_binary(W.shape[1])
    out = np.full(v.shape, np.nan)
    for n, x in enumerate(v):
        log_joint = _logsumexp([-_energy(x, h, W, b, c, "gaussian") for h in hs])
        for i in range(len(x)) if units is None else units:
            zero = x.copy()
            zero[i] = 0.0
            terms = []
            for h in hs:
                m = W[i] @ h
                terms.append(-_energy(zero, h, W, b, c, "gaussian") + 0.5 * b[i] ** 2
                             + 0.5 * np.log(2 * np.pi) + b[i] * m + 0.5 * m * m)
            out[n, i] = log_joint - _logsumexp(terms)
    return out


def test_gaussian_pll_is_the_conditional_density_by_enumeration():
    W, b, c = _model(5, 4, seed=11, scale=1.5)  # strong weights: multimodal conditionals
    v = np.random.default_rng(12).normal(0.0, 2.0, (6, 5))
    brute = gaussian_conditionals_by_enumeration(v, W, b, c)
    np.testing.assert_allclose(pseudo_log_likelihood(v, W, b, c, exact=True, visible="gaussian"),
                               brute.sum(axis=1), rtol=1e-10, atol=1e-10)
    # each conditional is a normalised density in v_i
    grid = np.linspace(-30, 30, 601)
    x = np.repeat(v[:1], len(grid), axis=0)
    x[:, 2] = grid
    density = np.exp(gaussian_conditionals_by_enumeration(x, W, b, c, units=[2])[:, 2])
    assert np.sum(density) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-9)
    # the stochastic estimate is n_visible times the conditional of one random unit per row
    idx = np.random.default_rng(3).integers(0, 5, size=6)
    np.testing.assert_allclose(pseudo_log_likelihood(v, W, b, c, rng=3, visible="gaussian"),
                               5 * brute[np.arange(6), idx], rtol=1e-10)


# ----------------------------------------------------------------------------- gradient
@pytest.mark.parametrize("visible,n_v,n_h", [("bernoulli", 5, 3), ("bernoulli", 3, 5), ("gaussian", 4, 3)])
def test_exact_gradient_matches_finite_differences(visible, n_v, n_h):
    W, b, c = _model(n_v, n_h, seed=11)
    rng = np.random.default_rng(12)
    v = (rng.random((7, n_v)) < 0.5).astype(float) if visible == "bernoulli" else rng.normal(0, 1, (7, n_v))

    def mean_ll(W_, b_, c_):
        return log_likelihood_exact(v, W_, b_, c_, visible=visible).mean()

    grads = rbm_grad_exact(v, W, b, c, visible=visible)
    params = [W, b, c]
    eps = 1e-6
    for k, (p, g) in enumerate(zip(params, grads)):
        assert g.shape == p.shape
        fd = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            fd[idx] = (mean_ll(*plus) - mean_ll(*minus)) / (2 * eps)
        np.testing.assert_allclose(g, fd, atol=1e-6)


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    W, b, c = _model(4, 3)
    v = np.ones((2, 4))
    with pytest.raises(ShapeError, match=r"\(4,\).*got \(3,\)"):
        free_energy(v, W, b[:3], c)
    with pytest.raises(ShapeError, match=r"\(3,\).*got \(4,\)"):
        log_partition_exact(W, b, np.zeros(4))
    with pytest.raises(ShapeError, match=r"\(N, 4\).*got \(2, 5\)"):
        free_energy(np.ones((2, 5)), W, b, c)
    with pytest.raises(ShapeError):
        free_energy(v, W[0], b, c)
    with pytest.raises(InputError, match="bernoulli, gaussian"):
        free_energy(v, W, b, c, visible="binomial")
    W_nan = W.copy()
    W_nan[1, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        log_partition_exact(W_nan, b, c)
    with pytest.raises(InputError, match="ais_log_partition"):
        log_partition_exact(*_model(30, 25))
    with pytest.raises(InputError, match="ais_log_partition"):
        log_partition_exact(*_model(3, 25), visible="gaussian")
    with pytest.raises(InputError, match="binary"):
        pseudo_log_likelihood(v * 0.5, W, b, c)
    with pytest.raises(InputError, match="binary"):
        log_likelihood_exact(v * 0.5, W, b, c)
    with pytest.raises(InputError, match="n_chains"):
        ais_log_partition(W, b, c, n_chains=0)
