"""The backend-neutral half of the Boltzmann machines: hyper-parameters, Gibbs sampling and the
contrastive-divergence objective, written once with the backend's ``ops``; likelihoods come from
:mod:`accelbrainbase.models.likelihood` (NumPy, float64).

Learning uses the free-energy form of the CD-k / PCD update: the gradient of
``mean F(v_data) - mean F(v_model)`` (model samples held constant) with respect to the
parameters is exactly minus the CD-k estimate of the log-likelihood gradient, with hidden
probabilities in place of hidden samples (Hinton 2002; Tieleman 2008). The backend's optimizer
then applies it, so momentum and weight decay come from the optimizer.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError
from accelbrainbase.core.interfaces import Batch
from accelbrainbase.core.learner import Learner
from accelbrainbase.core.optim import OptimizerSpec
from accelbrainbase.core.validation import check_array, check_choice, check_positive

VISIBLE_UNITS = ("bernoulli", "gaussian")

#: CD learning is plain gradient descent with momentum (Hinton 2010, "A practical guide to
#: training restricted Boltzmann machines", sections 5 and 9).
DEFAULT_RBM_OPTIMIZER = OptimizerSpec("momentum", learning_rate=0.05, momentum=0.5)


class RestrictedBoltzmannMachinesBase(Learner):
    """Restricted Boltzmann machine with Bernoulli hidden units and Bernoulli or Gaussian
    (unit-variance) visible units (Smolensky 1986; Hinton 2002; Hinton 2010).

    Energy: ``E(v, h) = -b.v - c.h - v W h`` (Bernoulli visible) or
    ``||v - b||^2 / 2 - c.h - v W h`` (Gaussian visible). ``W`` has shape (n_visible, n_hidden).
    Learning: CD-k (``k`` Gibbs steps from the data) or persistent CD (``persistent=True``,
    chains kept across batches; Tieleman 2008). Shapes: (N, n_visible) -> (N, n_visible)
    reconstructions; ``transform`` gives (N, n_hidden) hidden probabilities.
    """

    def __init__(self, n_visible: int, n_hidden: int, visible: str = "bernoulli", k: int = 1,
                 persistent: bool = False, optimizer=DEFAULT_RBM_OPTIMIZER, regularizers=(),
                 device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_rbm(n_visible, n_hidden, visible, k, persistent)
        self.add_parameter("weight", (self.n_visible, self.n_hidden), std=0.01)  # Hinton 2010, sec. 8
        self.add_parameter("visible_bias", (self.n_visible,))
        self.add_parameter("hidden_bias", (self.n_hidden,))
        self._setup_learning("mse", optimizer, regularizers, device)

    def rbm_parameters(self):
        """(weight, visible_bias, hidden_bias) as backend tensors."""
        return tuple(self.parameter_value(n) for n in ("weight", "visible_bias", "hidden_bias"))

    def _check_rbm(self, n_visible: int, n_hidden: int, visible: str, k: int, persistent: bool) -> None:
        self.n_visible = check_positive("n_visible", n_visible, integer=True)
        self.n_hidden = check_positive("n_hidden", n_hidden, integer=True)
        self.visible = check_choice("visible units", visible, VISIBLE_UNITS)
        self.k = check_positive("k", k, integer=True)
        if not isinstance(persistent, bool):
            raise InputError(f"persistent must be True or False, got {persistent!r}")
        self.persistent = persistent
        self.chains_ = None  # persistent fantasy particles (a backend tensor)

    @property
    def input_shape(self) -> tuple:
        return (self.n_visible,)

    #: hidden unit j's incoming weights are column j of ``weight`` (n_visible, n_hidden): the axis
    #: that regularizers such as MaxNorm constrain per unit (see core/regularizers.py)
    unit_axes = {"weight": 1}

    #: the history column that shows learning progress (the CD objective itself is a gap of
    #: free energies and need not decrease)
    monitor = "reconstruction_mse"

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (), **kwargs):
        """One RBM with ``code_size`` hidden units (``hidden`` is for deeper models)."""
        return cls(n_features, code_size, **kwargs)

    def extra_repr(self) -> str:
        kind = "PCD" if self.persistent else "CD"
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, visible={self.visible!r}, {kind}-{self.k}"

    # -- the model's conditionals, on backend tensors ------------------------------------------
    #: Private factors on the bottom-up input ``v W`` and the top-down input ``W h`` (both 1 in
    #: the public model). Deep Boltzmann machine pre-training sets them on its RBMs to 2 for the
    #: doubled directions (Salakhutdinov & Hinton 2009, section 3.1). Class attributes, not
    #: constructor arguments: they never appear in ``get_config``.
    up_factor: float = 1.0
    down_factor: float = 1.0

    def _bottom_up(self, v, weight, hidden_bias):
        product = self.ops.dot(v, weight)
        return (product if self.up_factor == 1 else self.up_factor * product) + hidden_bias

    def hidden_probability(self, v):
        """p(h_j = 1 | v) = sigmoid(c_j + (v W)_j)."""
        weight, _, hidden_bias = self.rbm_parameters()
        return self.ops.sigmoid(self._bottom_up(v, weight, hidden_bias))

    def visible_mean(self, h):
        """E[v | h]: sigmoid(b + W h) for Bernoulli units, b + W h for Gaussian ones."""
        weight, visible_bias, _ = self.rbm_parameters()
        product = self.ops.dot(h, self.ops.transpose(weight))
        pre = (product if self.down_factor == 1 else self.down_factor * product) + visible_bias
        return self.ops.sigmoid(pre) if self.visible == "bernoulli" else pre

    def draw_visible(self, mean):
        ops = self.ops
        return ops.bernoulli(mean) if self.visible == "bernoulli" else mean + ops.normal_like(mean)

    def gibbs_chain(self, v, steps: int, hidden_probability=None):
        """``steps`` full Gibbs steps v -> h -> v; ``hidden_probability`` of the start may be given."""
        ops = self.ops
        for step in range(steps):
            p = hidden_probability if step == 0 and hidden_probability is not None else self.hidden_probability(v)
            v = self.draw_visible(self.visible_mean(ops.bernoulli(p)))
        return v

    def free_energy_tensor(self, v, pre=None):
        """F(v) = -log sum_h exp(-E(v, h)); ``pre = v W + c`` may be given to share the product.

        With ``up_factor`` u the hidden term is softplus(u v W + c): the CD objective's weight
        gradient is then u times the usual CD statistics of the doubled-input RBM."""
        ops = self.ops
        weight, visible_bias, hidden_bias = self.rbm_parameters()
        if pre is None:
            pre = self._bottom_up(v, weight, hidden_bias)
        hidden = ops.sum(ops.softplus(pre), axis=1)
        if self.visible == "bernoulli":
            return -ops.dot(v, visible_bias) - hidden
        return 0.5 * ops.sum(ops.square(v - visible_bias), axis=1) - hidden

    def batch_loss(self, batch: Batch):
        """CD-k / PCD objective: mean F(data) - mean F(model samples); the MSE of the first Gibbs
        half-step's reconstruction E[v | h0] is reported as a metric."""
        ops = self.ops
        v0 = batch.inputs
        weight, _, hidden_bias = self.rbm_parameters()
        pre0 = self._bottom_up(v0, weight, hidden_bias)  # shared by F(v0) and p(h | v0)
        with ops.no_grad():
            p0 = ops.sigmoid(ops.detach(pre0))
            # the reconstruction E[v | h0], h0 ~ p(h | v0), is also CD's first Gibbs half-step
            reconstruction = self.visible_mean(ops.bernoulli(p0))
            if self.persistent:
                if self.chains_ is None:
                    self.chains_ = ops.detach(v0)
                negative = self.gibbs_chain(self.chains_, self.k)
                self.chains_ = negative
            else:
                negative = self.draw_visible(reconstruction)
                if self.k > 1:
                    negative = self.gibbs_chain(negative, self.k - 1)
            error = ops.mean(ops.square(reconstruction - batch.clean))
        loss = ops.mean(self.free_energy_tensor(v0, pre0)) - ops.mean(self.free_energy_tensor(negative))
        return loss, {"reconstruction_mse": error}

    def test_batch_loss(self, batch: Batch):
        """Held-out batches use CD-k from the data and leave the persistent chains alone."""
        persistent, self.persistent = self.persistent, False
        try:
            return self.batch_loss(batch)
        finally:
            self.persistent = persistent

    def forward_math(self, v):
        """Mean-field reconstruction E[v | h = p(h | v)]."""
        return self.visible_mean(self.hidden_probability(v))

    # -- NumPy-facing methods ------------------------------------------------------------------------
    def _numpy_params(self):
        state = self.export_state()
        return state["weight"], state["visible_bias"], state["hidden_bias"]

    def transform(self, observed_arr: np.ndarray) -> np.ndarray:
        """Hidden probabilities p(h = 1 | v), (N, n_hidden)."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.hidden_probability, chunk), x)

    extract_feature_points = transform

    def reconstruct(self, observed_arr: np.ndarray) -> np.ndarray:
        """Mean-field reconstruction E[v | p(h | v)], (N, n_visible); the same as ``inference``."""
        return self.inference(observed_arr)

    def sample_hidden(self, observed_arr: np.ndarray) -> np.ndarray:
        """Binary hidden samples h ~ p(h | v)."""
        x = self.check_samples("observed_arr", observed_arr)
        return self.apply_numpy(lambda v: self.ops.bernoulli(self.hidden_probability(v)), x)

    def sample_visible(self, hidden_arr: np.ndarray) -> np.ndarray:
        """Visible samples v ~ p(v | h) for hidden states (N, n_hidden)."""
        h = check_array("hidden_arr", hidden_arr, ndim=2, n_features=self.n_hidden)
        return self.apply_numpy(lambda t: self.draw_visible(self.visible_mean(t)), h)

    def gibbs(self, observed_arr: np.ndarray, steps: int = 1) -> np.ndarray:
        """Visible samples after ``steps`` Gibbs steps started at ``observed_arr``."""
        x = self.check_samples("observed_arr", observed_arr)
        steps = check_positive("steps", steps, integer=True)
        return self.apply_numpy(lambda v: self.gibbs_chain(v, steps), x)

    def free_energy(self, observed_arr: np.ndarray) -> np.ndarray:
        """F(v), (N,), in float64 from the current weights."""
        from accelbrainbase.models.likelihood import free_energy

        return free_energy(self.check_samples("observed_arr", observed_arr), *self._numpy_params(),
                           visible=self.visible)

    def log_partition(self) -> float:
        """Exact log Z by enumerating the smaller layer (at most 20 units)."""
        from accelbrainbase.models.likelihood import log_partition_exact

        return log_partition_exact(*self._numpy_params(), visible=self.visible)

    def log_likelihood(self, observed_arr: np.ndarray, log_z: Optional[float] = None) -> np.ndarray:
        """log p(v) per sample (a log density for Gaussian units), exact unless ``log_z`` is given
        (e.g. from :meth:`ais_log_partition`)."""
        if log_z is None:
            log_z = self.log_partition()
        return -self.free_energy(observed_arr) - log_z

    def ais_log_partition(self, n_chains: int = 100, n_betas: int = 10000, seed: Optional[int] = None):
        """Annealed importance sampling estimate of log Z (Salakhutdinov & Murray 2008)."""
        from accelbrainbase.models.likelihood import ais_log_partition

        return ais_log_partition(*self._numpy_params(), visible=self.visible, n_chains=n_chains,
                                 n_betas=n_betas, seed=seed)

    def pseudo_log_likelihood(self, observed_arr: np.ndarray, exact: bool = False,
                              seed: Optional[int] = None) -> np.ndarray:
        """Pseudo-log-likelihood ``sum_i log p(v_i | v_-i)`` per sample (Besag 1975) for the
        model's visible units: Bernoulli (binary inputs) or Gaussian (conditional densities);
        ``exact=False`` samples one unit per row (see :func:`~accelbrainbase.models.likelihood.pseudo_log_likelihood`)."""
        from accelbrainbase.models.likelihood import pseudo_log_likelihood

        x = self.check_samples("observed_arr", observed_arr)
        return pseudo_log_likelihood(x, *self._numpy_params(), rng=np.random.default_rng(seed), exact=exact,
                                     visible=self.visible)
