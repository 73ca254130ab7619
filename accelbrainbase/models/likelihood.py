"""Likelihood of a Restricted Boltzmann Machine, computed in NumPy (float64), backend-neutral.

Parameters follow one convention: weights ``W`` of shape ``(n_visible, n_hidden)``, visible bias
``b`` of shape ``(n_visible,)``, hidden bias ``c`` of shape ``(n_hidden,)``; data ``v`` of shape
``(N, n_visible)``. Hidden units are Bernoulli; visible units are Bernoulli
(``visible="bernoulli"``) or real-valued Gaussian with unit variance (``visible="gaussian"``):

* Bernoulli visible: ``E(v, h) = -b.v - c.h - v.W.h``
* Gaussian visible:  ``E(v, h) = ||v - b||^2 / 2 - c.h - v.W.h``

and ``p(v) = exp(-F(v)) / Z`` with the free energy ``F(v) = -log sum_h exp(-E(v, h))``
(Hinton 2010, "A practical guide to training restricted Boltzmann machines", section 16.1).
For Gaussian visible units ``p(v)`` is a density and ``Z`` integrates over ``v``.

* :func:`free_energy` -- ``F(v)`` in closed form.
* :func:`log_partition_exact` / :func:`log_likelihood_exact` -- ``log Z`` by enumerating the
  smaller layer (small models only).
* :func:`ais_log_partition` -- ``log Z`` by annealed importance sampling (Neal 2001;
  Salakhutdinov & Murray 2008) for models too big to enumerate.
* :func:`pseudo_log_likelihood` -- stochastic or exact pseudo-log-likelihood (Besag 1975),
  Bernoulli or Gaussian visible units.
* :func:`rbm_grad_exact` -- exact gradient of the mean log-likelihood (small models only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.validation import check_array, check_choice, check_positive

__all__ = [
    "AISResult",
    "VISIBLE_TYPES",
    "ais_log_partition",
    "free_energy",
    "log_likelihood_exact",
    "log_partition_exact",
    "pseudo_log_likelihood",
    "rbm_grad_exact",
]

VISIBLE_TYPES = ("bernoulli", "gaussian")

_LOG_2PI = float(np.log(2.0 * np.pi))
_LOG_2 = float(np.log(2.0))
_CHUNK_BITS = 14  # enumerate at most 2**14 states at a time


# ----------------------------------------------------------------------------- helpers
def _softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow."""
    return np.logaddexp(0.0, x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _logsumexp(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Stable ``log(sum(exp(a)))`` (NumPy only, so the module imports fast)."""
    a = np.asarray(a, dtype=np.float64)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _check_params(W: Any, b: Any, c: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    W = check_array("W", W, ndim=2, dtype=np.float64)
    n_v, n_h = W.shape
    b = check_array("b (visible bias)", b, dtype=np.float64)
    if b.shape != (n_v,):
        raise ShapeError(f"b (visible bias) must have shape ({n_v},) to match W {W.shape}, got {b.shape}")
    c = check_array("c (hidden bias)", c, dtype=np.float64)
    if c.shape != (n_h,):
        raise ShapeError(f"c (hidden bias) must have shape ({n_h},) to match W {W.shape}, got {c.shape}")
    return W, b, c


def _check_v(v: Any, n_v: int, *, binary: bool = False) -> np.ndarray:
    v = check_array("v", v, ndim=2, dtype=np.float64)
    if v.shape[1] != n_v:
        raise ShapeError(f"v must have shape (N, {n_v}) to match W, got {v.shape}")
    if binary and not np.all((v == 0.0) | (v == 1.0)):
        raise InputError("v must be binary (0/1) for Bernoulli visible units")
    return v


def _check_visible(visible: Any) -> str:
    return check_choice("visible unit type", visible, VISIBLE_TYPES)


def _states(n: int) -> Iterator[np.ndarray]:
    """All ``2**n`` binary vectors of length ``n``, as float64 chunks of at most 2**14 rows."""
    total = 1 << n
    chunk = 1 << min(n, _CHUNK_BITS)
    shifts = np.arange(n, dtype=np.int64)
    for start in range(0, total, chunk):
        idx = np.arange(start, min(start + chunk, total), dtype=np.int64)
        yield ((idx[:, None] >> shifts) & 1).astype(np.float64)


def _enumerated_layer(n_v: int, n_h: int, visible: str, max_units: int) -> str:
    """Which layer to enumerate (``"hidden"`` or ``"visible"``), or raise if it is too big."""
    layer = "hidden" if (visible == "gaussian" or n_h <= n_v) else "visible"
    n = n_h if layer == "hidden" else n_v
    if n > max_units:
        why = " (Gaussian visible units are continuous, so the hidden layer is enumerated)" if visible == "gaussian" else ""
        raise InputError(
            f"exact enumeration needs 2**{n} states of the {layer} layer{why}, more than "
            f"max_units={max_units} allows; raise max_units or estimate log Z with ais_log_partition"
        )
    return layer


def _log_unnorm_hidden(h: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray, visible: str) -> np.ndarray:
    """``log sum_v exp(-E(v, h))`` for each row ``h`` (without the (2 pi)^(n_v/2) of Gaussian)."""
    wh = h @ W.T  # (S, n_v)
    if visible == "bernoulli":
        return h @ c + _softplus(wh + b).sum(axis=1)
    return h @ c + wh @ b + 0.5 * np.einsum("ij,ij->i", wh, wh)


# ----------------------------------------------------------------------------- free energy
def free_energy(v: Any, W: Any, b: Any, c: Any, visible: str = "bernoulli") -> np.ndarray:
    """Free energy ``F(v) = -log sum_h exp(-E(v, h))`` of each row of ``v``; shape ``(N,)``.

    Bernoulli: ``-b.v - sum_j softplus(c_j + (vW)_j)``; Gaussian (unit variance):
    ``||v - b||^2 / 2 - sum_j softplus(c_j + (vW)_j)`` (Hinton 2010, section 16.1).
    ``v`` may hold real values (e.g. probabilities) for Bernoulli units.
    """
    visible = _check_visible(visible)
    W, b, c = _check_params(W, b, c)
    v = _check_v(v, W.shape[0])
    return _free_energy(v, W, b, c, visible)


def _free_energy(v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray, visible: str) -> np.ndarray:
    hidden = _softplus(v @ W + c).sum(axis=1)
    if visible == "bernoulli":
        return -(v @ b) - hidden
    d = v - b
    return 0.5 * np.einsum("ij,ij->i", d, d) - hidden


# ----------------------------------------------------------------------------- exact log Z
def log_partition_exact(
    W: Any, b: Any, c: Any, visible: str = "bernoulli", max_units: int = 20
) -> float:
    """Exact ``log Z`` by enumerating the ``2**n`` states of the smaller layer, in chunks.

    Bernoulli visible: enumerate ``h`` (if ``n_hidden <= n_visible``) with
    ``log Z = logsumexp_h[c.h + sum_i softplus(b_i + (Wh)_i)]``, else enumerate ``v`` with
    ``log Z = logsumexp_v[-F(v)]``. Gaussian visible: the integral over ``v`` is Gaussian,
    ``log Z = logsumexp_h[c.h + b.(Wh) + ||Wh||^2 / 2] + (n_v / 2) log(2 pi)``.
    Raises :class:`InputError` if the enumerated layer has more than ``max_units`` units.
    """
    visible = _check_visible(visible)
    W, b, c = _check_params(W, b, c)
    max_units = check_positive("max_units", max_units, integer=True)
    return _log_partition(W, b, c, visible, max_units)


def _log_partition(W: np.ndarray, b: np.ndarray, c: np.ndarray, visible: str, max_units: int) -> float:
    n_v, n_h = W.shape
    layer = _enumerated_layer(n_v, n_h, visible, max_units)
    parts = []
    if layer == "hidden":
        for h in _states(n_h):
            parts.append(_logsumexp(_log_unnorm_hidden(h, W, b, c, visible)))
    else:
        for v in _states(n_v):
            parts.append(_logsumexp(-_free_energy(v, W, b, c, visible)))
    log_z = float(_logsumexp(np.array(parts)))
    if visible == "gaussian":
        log_z += 0.5 * n_v * _LOG_2PI
    return log_z


def log_likelihood_exact(
    v: Any, W: Any, b: Any, c: Any, visible: str = "bernoulli", max_units: int = 20
) -> np.ndarray:
    """Exact ``log p(v) = -F(v) - log Z`` of each row of ``v``; shape ``(N,)``.

    For Gaussian visible units this is a log-density. ``v`` must be binary for Bernoulli units.
    """
    visible = _check_visible(visible)
    W, b, c = _check_params(W, b, c)
    v = _check_v(v, W.shape[0], binary=visible == "bernoulli")
    max_units = check_positive("max_units", max_units, integer=True)
    return -_free_energy(v, W, b, c, visible) - _log_partition(W, b, c, visible, max_units)


# ----------------------------------------------------------------------------- AIS
@dataclass(frozen=True)
class AISResult:
    """Result of :func:`ais_log_partition`.

    ``log_z``: the estimate ``log Z_A + log mean(w)``. ``log_z_std``: its standard error in log
    space (delta method: ``std(w) / (sqrt(n_chains) * mean(w))``). ``lower`` / ``upper``:
    ``log Z_A + log(mean(w) -/+ 3 std(w) / sqrt(n_chains))`` as in Salakhutdinov & Murray 2008
    (``lower`` is ``-inf`` when ``mean - 3 std <= 0``). ``log_weights``: the ``(n_chains,)``
    log importance weights.
    """

    log_z: float
    log_z_std: float
    lower: float
    upper: float
    log_weights: np.ndarray


def _default_betas(n_betas: int) -> np.ndarray:
    """Salakhutdinov & Murray's (2008) piecewise-uniform schedule rescaled to ``n_betas`` points.

    Their schedule has 500 steps on [0, 0.5], 4,000 on [0.5, 0.9] and 10,000 on [0.9, 1]
    (spacings 1e-3, 1e-4, 1e-5); ``n_betas=14501`` reproduces it exactly, other values keep
    the same 500 : 4000 : 10000 split of the ``n_betas - 1`` steps.
    """
    steps = n_betas - 1
    if steps < 3:
        return np.linspace(0.0, 1.0, n_betas)
    n1 = max(1, int(round(steps * 500 / 14500)))
    n2 = max(1, int(round(steps * 4000 / 14500)))
    n3 = steps - n1 - n2
    if n3 < 1:
        n2 -= 1 - n3
        n3 = 1
    return np.concatenate([
        np.linspace(0.0, 0.5, n1 + 1)[:-1],
        np.linspace(0.5, 0.9, n2 + 1)[:-1],
        np.linspace(0.9, 1.0, n3 + 1),
    ])


def _check_betas(betas: Any) -> np.ndarray:
    betas = check_array("betas", betas, ndim=1, dtype=np.float64)
    if betas.size < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or np.any(np.diff(betas) < 0):
        raise InputError("betas must be a non-decreasing 1-D sequence of length >= 2 from 0.0 to 1.0")
    return betas


def ais_log_partition(
    W: Any,
    b: Any,
    c: Any,
    visible: str = "bernoulli",
    n_chains: int = 100,
    n_betas: int = 10000,
    betas: Any = None,
    seed: int | np.random.Generator | None = None,
    base_visible_bias: Any = None,
) -> AISResult:
    """Estimate ``log Z`` by annealed importance sampling (Neal 2001; Salakhutdinov & Murray
    2008, "On the quantitative analysis of deep belief networks", section 4).

    Base-rate model A: ``W_A = 0``, ``c_A = 0``, visible bias ``b_A = base_visible_bias``
    (default ``b``; for Bernoulli units the logit of the data's pixel means is a good choice).
    ``log Z_A = sum_i softplus(b_A_i) + n_h log 2`` (Bernoulli) or
    ``(n_v / 2) log(2 pi) + n_h log 2`` (Gaussian, mean ``b_A``). The intermediate
    distributions mix the energies, ``E_k = (1 - beta_k) E_A + beta_k E_B``, so

    * Bernoulli: ``p_k*(v) = exp(((1 - beta_k) b_A + beta_k b).v) prod_j (1 + exp(beta_k (c_j + (vW)_j)))``
    * Gaussian:  ``p_k*(v) = exp(-(1 - beta_k) ||v - b_A||^2 / 2 - beta_k ||v - b||^2 / 2) prod_j (...)``

    and each transition is one Gibbs sweep (``h ~ p_k(h | v)``, then ``v ~ p_k(v | h)``) that
    leaves ``p_k`` invariant. All chains run at once; the loop is over ``betas`` only.

    ``betas=None`` uses :func:`_default_betas`: Salakhutdinov & Murray's schedule (uniform
    spacing on [0, 0.5], 8x denser on [0.5, 0.9], 10x denser again on [0.9, 1]) rescaled to
    ``n_betas`` points. ``seed`` is passed to :func:`numpy.random.default_rng`.
    AIS tends to under-estimate ``log Z`` (the estimate of ``Z`` is unbiased, its log is not).
    """
    visible = _check_visible(visible)
    W, b, c = _check_params(W, b, c)
    n_v, n_h = W.shape
    n_chains = check_positive("n_chains", n_chains, integer=True)
    betas = resolve_betas(betas, n_betas)
    if base_visible_bias is None:
        b_a = b
    else:
        b_a = check_array("base_visible_bias", base_visible_bias, dtype=np.float64)
        if b_a.shape != (n_v,):
            raise ShapeError(f"base_visible_bias must have shape ({n_v},), got {b_a.shape}")
    rng = np.random.default_rng(seed)

    # Sample from the base model A and set its log partition function.
    if visible == "bernoulli":
        v = (rng.random((n_chains, n_v)) < _sigmoid(b_a)).astype(np.float64)
        log_z_a = float(_softplus(b_a).sum()) + n_h * _LOG_2
    else:
        v = b_a + rng.standard_normal((n_chains, n_v))
        log_z_a = 0.5 * n_v * _LOG_2PI + n_h * _LOG_2

    def visible_terms(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(base, target) visible log-factors: -E_A(v) and the visible part of -E_B(v)."""
        if visible == "bernoulli":
            return x @ b_a, x @ b
        da, db = x - b_a, x - b
        return -0.5 * np.einsum("ij,ij->i", da, da), -0.5 * np.einsum("ij,ij->i", db, db)

    log_w = np.zeros(n_chains)
    for k in range(1, len(betas)):
        beta_prev, beta = betas[k - 1], betas[k]
        pre = v @ W + c  # (n_chains, n_h)
        base_term, target_term = visible_terms(v)
        # log p_k*(v) - log p_{k-1}*(v) at the current state v ~ T_{k-1}(...)
        log_w += (beta - beta_prev) * (target_term - base_term)
        log_w += _softplus(beta * pre).sum(axis=1) - _softplus(beta_prev * pre).sum(axis=1)
        if k == len(betas) - 1:
            break
        # One Gibbs sweep leaving p_k invariant.
        h = (rng.random((n_chains, n_h)) < _sigmoid(beta * pre)).astype(np.float64)
        mean_v = (1.0 - beta) * b_a + beta * b + beta * (h @ W.T)
        if visible == "bernoulli":
            v = (rng.random((n_chains, n_v)) < _sigmoid(mean_v)).astype(np.float64)
        else:
            v = mean_v + rng.standard_normal((n_chains, n_v))

    return ais_result(log_z_a, log_w)


def resolve_betas(betas: Any, n_betas: int) -> np.ndarray:
    """The given temperature schedule checked, or the default one with ``n_betas`` points."""
    if betas is not None:
        return _check_betas(betas)
    n_betas = check_positive("n_betas", n_betas, integer=True)
    if n_betas < 2:
        raise InputError(f"n_betas must be >= 2, got {n_betas}")
    return _default_betas(n_betas)


def ais_result(log_z_a: float, log_w: np.ndarray) -> AISResult:
    """The AIS estimate ``log Z_A + log mean(w)`` with its standard error and 3-sigma range."""
    n = len(log_w)
    m = float(np.max(log_w))
    r = np.exp(log_w - m)
    mean_r = float(np.mean(r))
    se_r = float(np.std(r, ddof=1)) / np.sqrt(n) if n > 1 else 0.0
    log_z = log_z_a + m + float(np.log(mean_r))
    lo = mean_r - 3.0 * se_r
    return AISResult(
        log_z=log_z,
        log_z_std=se_r / mean_r,
        lower=log_z_a + m + float(np.log(lo)) if lo > 0 else float("-inf"),
        upper=log_z_a + m + float(np.log(mean_r + 3.0 * se_r)),
        log_weights=log_w,
    )


# ----------------------------------------------------------------------------- pseudo-likelihood
#: trapezoid spacing and tail margin of the Gaussian conditional's normaliser (see
#: :func:`_gaussian_conditional_log_density`)
_PLL_STEP = 0.5
_PLL_TAIL = 10.0
_PLL_CHUNK = 1 << 21  # at most this many (row, grid point, hidden unit) terms at a time


def pseudo_log_likelihood(
    v: Any,
    W: Any,
    b: Any,
    c: Any,
    rng: int | np.random.Generator | None = None,
    exact: bool = False,
    visible: str = "bernoulli",
) -> np.ndarray:
    """Pseudo-log-likelihood ``sum_i log p(v_i | v_{-i})`` of each row of ``v`` (Besag 1975).

    Bernoulli visible units (``v`` binary): ``log p(v_i | v_-i) = log sigmoid(F(v with bit i
    flipped) - F(v))``. Gaussian visible units (unit variance, ``v`` real): the conditional
    density ``p(v_i | v_-i) = exp(-F(v)) / integral exp(-F(v_-i, t)) dt`` (a mixture of
    Gaussians over the hidden states), its normaliser integrated numerically in
    :func:`_gaussian_conditional_log_density`.

    With ``exact=True`` the sum runs over every visible unit. Otherwise the stochastic estimate
    of scikit-learn's ``BernoulliRBM.score_samples``: one random unit ``i`` per row,
    ``n_visible * log p(v_i | v_-i)`` (unbiased for the exact value). ``rng`` is a seed or
    :class:`numpy.random.Generator`.
    """
    visible = _check_visible(visible)
    W, b, c = _check_params(W, b, c)
    v = _check_v(v, W.shape[0], binary=visible == "bernoulli")
    n, n_v = v.shape
    if visible == "gaussian":
        if exact:
            return sum(_gaussian_conditional_log_density(v, W, b, c, i) for i in range(n_v))
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        idx = gen.integers(0, n_v, size=n)
        total = np.zeros(n)
        for i in np.unique(idx):
            rows = idx == i
            total[rows] = n_v * _gaussian_conditional_log_density(v[rows], W, b, c, int(i))
        return total
    fe = _free_energy(v, W, b, c, visible)
    if exact:
        total = np.zeros(n)
        for i in range(n_v):
            flipped = v.copy()
            flipped[:, i] = 1.0 - flipped[:, i]
            total -= _softplus(-(_free_energy(flipped, W, b, c, visible) - fe))
        return total
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    idx = gen.integers(0, n_v, size=n)
    flipped = v.copy()
    rows = np.arange(n)
    flipped[rows, idx] = 1.0 - flipped[rows, idx]
    return -n_v * _softplus(-(_free_energy(flipped, W, b, c, visible) - fe))


def _gaussian_conditional_log_density(v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray,
                                      i: int) -> np.ndarray:
    """``log p(v_i | v_-i)`` of unit-variance Gaussian visible unit ``i``, shape ``(N,)``.

    With ``a = c + v_-i W_-i`` (the hidden input without unit ``i``) the unnormalised
    conditional is ``f(t) = exp(-(t - b_i)^2 / 2 + sum_j softplus(a_j + t W_ij))``, the
    ``v_-i`` terms of ``-F`` cancelling. Its integral is the trapezoid sum with spacing 0.5 on
    ``[b_i - S_- - 10, b_i + S_+ + 10]``, ``S_+/-`` the sums of the positive / negative parts
    of ``W_i``: beyond that interval ``log f`` falls at least as fast as ``-(t - edge)^2 / 2``
    (the softplus terms have slopes within ``[-S_-, S_+]``) while ``(log f)'' >= -1`` puts at
    least ``max f * sqrt(2 pi)`` inside, so the tails hold less than ``e^-50`` of the mass;
    ``f`` is entire with ``|f(x + iy)| <= e^{y^2/2} f(x)``, so the trapezoid rule's relative
    error is below ``2 exp(-2 pi^2 / 0.5^2) = 2e-34`` (Trefethen & Weideman 2014, SIAM Review
    56(3), theorem 5.1, with a strip of half-width ``2 pi / 0.5``).
    """
    w = W[i]
    a = v @ W + c - np.outer(v[:, i], w)
    numerator = -0.5 * (v[:, i] - b[i]) ** 2 + _softplus(a + v[:, i:i + 1] * w).sum(axis=1)
    lo = b[i] - np.clip(-w, 0.0, None).sum() - _PLL_TAIL
    hi = b[i] + np.clip(w, 0.0, None).sum() + _PLL_TAIL
    t = np.linspace(lo, hi, int(np.ceil((hi - lo) / _PLL_STEP)) + 1)
    gaussian = -0.5 * (t - b[i]) ** 2
    rows = max(1, _PLL_CHUNK // (len(t) * len(w)))
    log_normaliser = np.empty(len(v))
    for start in range(0, len(v), rows):
        chunk = a[start:start + rows]
        log_f = gaussian + _softplus(chunk[:, None, :] + t[None, :, None] * w).sum(axis=2)
        log_normaliser[start:start + rows] = _logsumexp(log_f, axis=1)
    return numerator - log_normaliser - np.log(t[1] - t[0])


# ----------------------------------------------------------------------------- exact gradient
def rbm_grad_exact(
    v: Any, W: Any, b: Any, c: Any, visible: str = "bernoulli", max_units: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact gradient ``(dW, db, dc)`` of the mean log-likelihood ``mean_n log p(v_n)``.

    Data term minus model term (Hinton 2002; Hinton 2010, section 2):
    ``dW = <v h^T>_data - <v h^T>_model``, ``db = <v>_data - <v>_model``,
    ``dc = <h>_data - <h>_model`` with ``h`` replaced by ``p(h = 1 | v)`` in the data term and the
    model expectations computed by enumerating the smaller layer (see
    :func:`log_partition_exact`). Ascend it to increase the likelihood.
    """
    visible = _check_visible(visible)
    W, b, c = _check_params(W, b, c)
    v = _check_v(v, W.shape[0], binary=visible == "bernoulli")
    max_units = check_positive("max_units", max_units, integer=True)
    n_v, n_h = W.shape

    ph = _sigmoid(v @ W + c)
    data_w = v.T @ ph / len(v)
    data_b = v.mean(axis=0)
    data_c = ph.mean(axis=0)

    log_z = _log_partition(W, b, c, visible, max_units)
    if visible == "gaussian":
        log_z -= 0.5 * n_v * _LOG_2PI  # the enumeration below leaves out (2 pi)^(n_v / 2)
    model_w = np.zeros_like(W)
    model_b = np.zeros_like(b)
    model_c = np.zeros_like(c)
    if _enumerated_layer(n_v, n_h, visible, max_units) == "hidden":
        for h in _states(n_h):
            p = np.exp(_log_unnorm_hidden(h, W, b, c, visible) - log_z)  # p(h)
            wh = h @ W.T + b
            ev = _sigmoid(wh) if visible == "bernoulli" else wh  # E[v | h]
            model_w += (ev * p[:, None]).T @ h
            model_b += p @ ev
            model_c += p @ h
    else:
        for s in _states(n_v):
            p = np.exp(-_free_energy(s, W, b, c, visible) - log_z)  # p(v)
            eh = _sigmoid(s @ W + c)  # E[h | v]
            model_w += (s * p[:, None]).T @ eh
            model_b += p @ s
            model_c += p @ eh
    return data_w - model_w, data_b - model_b, data_c - model_c
