"""The backend-neutral half of deep belief networks and deep Boltzmann machines: hyper-parameters,
checks, pre-training, sampling, mean-field inference and the objectives, written once with the
backend's ``ops``. Each backend adds only its parameters, accessors and ``forward``.

- :class:`DeepBeliefNetworksBase`: a stack of RBMs pre-trained greedily, layer by layer (Hinton,
  Osindero & Teh 2006, "A fast learning algorithm for deep belief nets"), then unrolled into a
  tied deep auto-encoder fine-tuned by back-propagation (Hinton & Salakhutdinov 2006, "Reducing
  the dimensionality of data with neural networks").
- :class:`DeepBoltzmannMachinesBase`: layer-wise pre-training with doubled inputs, then joint
  training with a mean-field positive phase and persistent Gibbs chains for the negative phase
  (Salakhutdinov & Hinton 2009, "Deep Boltzmann machines", AISTATS; for more than two hidden
  layers Salakhutdinov & Hinton 2012, "An efficient learning procedure for deep Boltzmann
  machines", Neural Computation 24(8)).
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np

from accelbrainbase.models.boltzmann import DEFAULT_RBM_OPTIMIZER, VISIBLE_UNITS
from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import Batch, IteratableData
from accelbrainbase.core.learner import Learner
from accelbrainbase.core.optim import OptimizerSpec, as_optimizer_spec
from accelbrainbase.models.pretraining import learn_layer, pretraining_arrays
from accelbrainbase.core.validation import check_array, check_choice, check_positive


# -- shared helpers ------------------------------------------------------------------------------
def _check_units(units: Any) -> List[int]:
    if not isinstance(units, (list, tuple)) or len(units) < 2:
        raise InputError(f"units must list at least the visible and one hidden width, "
                         f"[n_visible, h1, ..., hL], got {units!r}")
    return [check_positive(f"units[{i}]", u, integer=True) for i, u in enumerate(units)]


def _same_optimizer(a: Any, b: Any) -> bool:
    """The same object, or names / OptimizerSpecs with the same settings."""
    if a is b:
        return True
    spec_a, spec_b = as_optimizer_spec(a), as_optimizer_spec(b)
    return spec_a is not None and spec_b is not None and spec_a.get_config() == spec_b.get_config()


def _check_sample_args(n: int, gibbs_steps: int):
    return check_positive("n", n, integer=True), check_positive("gibbs_steps", gibbs_steps, integer=True)


def _seed_backend(model, seed: Optional[int]) -> np.random.Generator:
    """Re-seed the backend's generator (when ``seed`` is given) and return a NumPy generator."""
    if seed is None:
        return np.random.default_rng(np.random.randint(2**31))  # reproducible after seed_everything
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise InputError(f"seed must be None or an integer in [0, 2**32), got {seed!r}")
    from accelbrainbase.core.seeding import _seed_framework

    _seed_framework(type(model).__module__.split(".")[1], int(seed))
    return np.random.default_rng(int(seed))


#: back-propagation through the unrolled sigmoid network needs a faster optimizer than CD does
DEFAULT_FINE_TUNE_OPTIMIZER = OptimizerSpec("adam", learning_rate=3e-3)


# ================================================================================================
class DeepBeliefNetworksBase(Learner):
    """Deep belief network: a stack of RBMs ``rbms`` (Hinton, Osindero & Teh 2006).

    ``units = [n_visible, h1, ..., hL]`` builds one RBM per pair of adjacent layers (layer 0 has
    ``visible`` units, higher layers are Bernoulli) with CD-``k`` (default 1) or PCD
    (``persistent``) and ``pretrain_optimizer`` (default: :data:`DEFAULT_RBM_OPTIMIZER`). A list
    of ``RestrictedBoltzmannMachines`` whose sizes chain may be given instead: they keep their
    own ``k``, ``persistent`` and optimizer, so passing different ones raises.
    ``regularizers`` constrain the pre-training of every RBM (given RBMs: on top of their own,
    while they pre-train) and the fine-tuning.

    Learning: on the first ``learn`` each RBM learns for ``pretrain_epochs`` epochs (CD-k or PCD,
    through its own ``learn``) on the hidden probabilities of the layers below (greedy
    layer-wise pre-training; histories in ``pretrain_histories_``); then the main loop fine-tunes
    the unrolled, tied deep auto-encoder by back-propagation of the reconstruction MSE with
    ``optimizer`` (Hinton & Salakhutdinov 2006). Shapes: ``encode``/``transform`` (N, n_visible) -> (N, hL) top-layer
    probabilities; ``decode`` (N, hL) -> (N, n_visible); ``inference`` = decode(encode(x));
    ``sample(n)`` -> (n, n_visible).
    """

    #: the backend's RestrictedBoltzmannMachines class, set by the backend module
    rbm_class: type = None
    monitor = "loss"

    def __init__(self, units, visible: str = "bernoulli", k: Optional[int] = None,
                 persistent: Optional[bool] = None, pretrain_epochs: int = 10, pretrain_optimizer=None,
                 optimizer=DEFAULT_FINE_TUNE_OPTIMIZER, regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        rbms = self._check_dbn(units, visible, k, persistent, pretrain_epochs, pretrain_optimizer,
                               regularizers, device)
        self.add_children("rbms", rbms)
        self._setup_learning("mse", optimizer, regularizers, device)

    def _check_dbn(self, units, visible, k, persistent, pretrain_epochs, pretrain_optimizer, regularizers,
                   device) -> list:
        """Validate and store the hyper-parameters; return the RBMs (built or given)."""
        self.visible = check_choice("visible units", visible, VISIBLE_UNITS)
        if k is not None:
            check_positive("k", k, integer=True)
        if persistent is not None and not isinstance(persistent, bool):
            raise InputError(f"persistent must be True or False, got {persistent!r}")
        self.pretrain_epochs = check_positive("pretrain_epochs", pretrain_epochs, integer=True,
                                              allow_zero=True)
        self.pretrain_histories_: List[Any] = []
        if isinstance(units, (list, tuple)) and units and all(isinstance(u, self.rbm_class) for u in units):
            rbms = list(units)
            self._given_rbms = True
            self._check_rbm_chain(rbms)
            self._check_given_settings(rbms, k, persistent, pretrain_optimizer)
            self.k, self.persistent, self.pretrain_optimizer = k, persistent, pretrain_optimizer
            self.layer_units = [rbms[0].n_visible] + [r.n_hidden for r in rbms]
            return rbms
        if isinstance(units, (list, tuple)) and any(isinstance(u, self.rbm_class) for u in units):
            raise InputError("units must be all layer widths or all RestrictedBoltzmannMachines, not a mix")
        self._given_rbms = False
        self.k = 1 if k is None else k
        self.persistent = False if persistent is None else persistent
        self.pretrain_optimizer = DEFAULT_RBM_OPTIMIZER if pretrain_optimizer is None else pretrain_optimizer
        self._units = self.layer_units = _check_units(units)
        return [self.rbm_class(a, b, visible=visible if i == 0 else "bernoulli", k=self.k,
                               persistent=self.persistent, optimizer=self.pretrain_optimizer,
                               regularizers=regularizers, device=device)
                for i, (a, b) in enumerate(zip(self.layer_units[:-1], self.layer_units[1:]))]

    def _check_rbm_chain(self, rbms: list) -> None:
        if rbms[0].visible != self.visible:
            raise InputError(f"rbms[0] has {rbms[0].visible} visible units but visible={self.visible!r}")
        for i in range(1, len(rbms)):
            if rbms[i].n_visible != rbms[i - 1].n_hidden:
                raise ShapeError(f"rbms[{i}] has {rbms[i].n_visible} visible units but rbms[{i - 1}] "
                                 f"has {rbms[i - 1].n_hidden} hidden units; the layer sizes must chain")
            if rbms[i].visible != "bernoulli":
                raise InputError(f"rbms[{i}] has {rbms[i].visible} visible units; only rbms[0] may "
                                 "(the layers above see hidden probabilities: Bernoulli units)")

    @staticmethod
    def _check_given_settings(rbms: list, k, persistent, pretrain_optimizer) -> None:
        """Given RBMs pre-train with their own k, persistent and optimizer: a different setting
        passed to the DBN would be ignored, so it raises."""
        for i, rbm in enumerate(rbms):
            for what, value, own in (("k", k, rbm.k), ("persistent", persistent, rbm.persistent)):
                if value is not None and value != own:
                    raise InputError(f"{what}={value!r} applies to the RBMs the network builds from layer widths; "
                                     f"the given rbms[{i}] has {what}={own!r} (set it on each RBM, or leave "
                                     f"{what} unset)")
            if pretrain_optimizer is not None and not _same_optimizer(pretrain_optimizer, rbm.optimizer):
                raise InputError(f"pretrain_optimizer={pretrain_optimizer!r} applies to the RBMs the network builds "
                                 f"from layer widths; the given rbms[{i}] pre-trains with its own optimizer "
                                 f"{rbm.optimizer!r} (set it on each RBM, or leave pretrain_optimizer unset)")

    @property
    def units(self) -> list:
        """The constructor's ``units``: layer widths, or the RBMs when RBMs were given."""
        return [self.rbms[i] for i in range(len(self.rbms))] if self._given_rbms else list(self._units)

    @property
    def input_shape(self) -> tuple:
        return (self.layer_units[0],)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (48,), **kwargs):
        """units ``[n_features, *hidden, code_size]``."""
        return cls([n_features, *hidden, code_size], **kwargs)

    def extra_repr(self) -> str:
        return f"units={self.layer_units}, visible={self.visible!r}, pretrain_epochs={self.pretrain_epochs}"

    # -- greedy layer-wise pre-training ------------------------------------------------------------
    def before_learning(self, iteratable_data: IteratableData) -> None:
        if not self.pretrain_histories_ and len(self.history_) == 0 and self.pretrain_epochs:
            self.pretrain(iteratable_data)

    def pretrain(self, iteratable_data: IteratableData) -> None:
        """RBM ``i`` learns on the hidden probabilities p(h_{i} | h_{i-1}) of the layers below."""
        train, test, batch_size = pretraining_arrays(iteratable_data)
        n = len(self.rbms)
        for i in range(n):
            rbm = self.rbms[i]
            own = rbm.regularizers
            if self._given_rbms:  # the network's regularizers constrain its given RBMs' pre-training too
                rbm.regularizers = own + [r for r in self.regularizers if all(r is not o for o in own)]
            try:
                self.pretrain_histories_.append(learn_layer(rbm, train, test, batch_size, self.pretrain_epochs))
            finally:
                rbm.regularizers = own
            if i < n - 1:
                train = rbm.transform(train)
                test = None if test is None else rbm.transform(test)

    # -- the unrolled auto-encoder, on backend tensors ---------------------------------------------
    def encode_tensor(self, v):
        """Up pass of hidden probabilities, (N, n_visible) -> (N, hL)."""
        for i in range(len(self.rbms)):
            v = self.rbms[i].hidden_probability(v)
        return v

    def decode_tensor(self, h):
        """Down pass of visible means, (N, hL) -> (N, n_visible)."""
        for i in reversed(range(len(self.rbms))):
            h = self.rbms[i].visible_mean(h)
        return h

    def batch_loss(self, batch: Batch):
        """Reconstruction MSE of the unrolled auto-encoder against the clean inputs."""
        ops = self.ops
        return ops.mean(ops.square(self(batch.inputs) - batch.clean)), {}

    # -- NumPy-facing methods ----------------------------------------------------------------------
    def encode(self, observed_arr: np.ndarray) -> np.ndarray:
        """Top-layer hidden probabilities, (N, n_visible) -> (N, hL)."""
        x = self.check_samples("observed_arr", observed_arr)
        return self._chunked(lambda chunk: self.apply_numpy(self.encode_tensor, chunk), x)

    transform = extract_feature_points = encode

    def decode(self, code_arr: np.ndarray) -> np.ndarray:
        """Visible means of a deterministic down pass, (N, hL) -> (N, n_visible)."""
        h = check_array("code_arr", code_arr, ndim=2, n_features=self.layer_units[-1])
        return self._chunked(lambda chunk: self.apply_numpy(self.decode_tensor, chunk), h)

    def sample(self, n: int, gibbs_steps: int = 1000, seed: Optional[int] = None) -> np.ndarray:
        """Generate ``n`` samples (n, n_visible): ``gibbs_steps`` alternating Gibbs steps in the top
        RBM from random states, then a stochastic down pass through the lower layers with visible
        means at the end (Hinton et al. 2006, section 2). ``seed`` re-seeds the backend's generator."""
        n, gibbs_steps = _check_sample_args(n, gibbs_steps)
        rng = _seed_backend(self, seed)
        top = self.rbms[len(self.rbms) - 1]
        if top.visible == "bernoulli":
            start = (rng.random((n, top.n_visible)) < 0.5).astype(np.float32)
        else:
            start = rng.standard_normal((n, top.n_visible)).astype(np.float32)

        def generate(x):
            ops = self.ops
            mean = None
            for _ in range(gibbs_steps):
                mean = top.visible_mean(ops.bernoulli(top.hidden_probability(x)))
                x = top.draw_visible(mean)
            for i in reversed(range(len(self.rbms) - 1)):
                mean = self.rbms[i].visible_mean(ops.bernoulli(mean))
            return mean

        return self.apply_numpy(generate, start)


# ================================================================================================
class DeepBoltzmannMachinesBase(Learner):
    """Deep Boltzmann machine (Salakhutdinov & Hinton 2009; 2012 for more than two hidden layers).

    ``units = [n_visible, h1, ..., hL]``; parameters ``weight{l}`` (units[l], units[l+1]) and
    ``bias{l}`` (units[l]), l = 0 being the visible layer. Energy
    ``E(v, h1..hL) = -sum_l x_l W_l x_{l+1} - sum_l b_l x_l`` (Gaussian visible units:
    ``+ ||v - b0||^2 / 2`` instead of ``-b0 . v``).

    Learning: on the first ``learn``, layer-wise pre-training with the doubling corrections
    (bottom RBM p(h1|v) = sigmoid(2 v W + c), top RBM p(h_{L-1}|h_L) = sigmoid(2 h_L W^T + b),
    intermediate RBMs ordinary with their weights halved when composed; each middle layer's bias
    is the average of the hidden bias of the RBM below and the visible bias of the RBM above).
    Then joint training: positive phase = mean-field posterior q(h|v) (at most
    ``mean_field_steps`` sweeps, stopping when no unit moves by ``mean_field_tol``), negative
    phase = ``n_chains`` persistent chains (``chains_``) advanced by ``gibbs_steps`` block-Gibbs
    steps per update. The optimizer minimises ``mean E(v, mu) - mean E(chains)`` with mu and the
    chains held constant, whose gradient is minus the DBM learning rule.

    Shapes: ``mean_field`` (N, n_visible) -> [(N, h1), ..., (N, hL)]; ``transform(x, layer)``
    -> (N, h_layer); ``inference`` -> (N, n_visible) = E[v | mu1]; ``sample(n)`` -> (n, n_visible).
    """

    #: the backend's RestrictedBoltzmannMachines class (for pre-training), set by the backend
    rbm_class: type = None
    monitor = "reconstruction_mse"

    def __init__(self, units, visible: str = "bernoulli", pretrain_epochs: int = 10,
                 mean_field_steps: int = 10, mean_field_tol: float = 1e-5, gibbs_steps: int = 1,
                 n_chains: int = 100, optimizer=DEFAULT_RBM_OPTIMIZER, regularizers=(),
                 device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_dbm(units, visible, pretrain_epochs, mean_field_steps, mean_field_tol,
                        gibbs_steps, n_chains)
        for l, (a, b) in enumerate(zip(self.units[:-1], self.units[1:])):
            self.add_parameter(f"weight{l}", (a, b), std=0.01)
        for l, a in enumerate(self.units):
            self.add_parameter(f"bias{l}", (a,))
        self._setup_learning("mse", optimizer, regularizers, device)

    def dbm_parameters(self):
        """([weight0, ..., weight{L-1}], [bias0, ..., bias{L}]) as backend tensors."""
        return ([self.parameter_value(f"weight{l}") for l in range(self.n_layers)],
                [self.parameter_value(f"bias{l}") for l in range(self.n_layers + 1)])

    def _check_dbm(self, units, visible, pretrain_epochs, mean_field_steps, mean_field_tol,
                   gibbs_steps, n_chains) -> None:
        self.units = _check_units(units)
        self.visible = check_choice("visible units", visible, VISIBLE_UNITS)
        self.pretrain_epochs = check_positive("pretrain_epochs", pretrain_epochs, integer=True,
                                              allow_zero=True)
        self.mean_field_steps = check_positive("mean_field_steps", mean_field_steps, integer=True)
        self.mean_field_tol = check_positive("mean_field_tol", mean_field_tol, allow_zero=True)
        self.gibbs_steps = check_positive("gibbs_steps", gibbs_steps, integer=True)
        self.n_chains = check_positive("n_chains", n_chains, integer=True)
        self.pretrain_histories_: List[Any] = []
        self.chains_ = None  # persistent chains [v, h1, ..., hL] (backend tensors)

    @property
    def n_layers(self) -> int:
        """Number of hidden layers L."""
        return len(self.units) - 1

    @property
    def unit_axes(self) -> dict:
        """``weight{l}`` (units[l], units[l+1]) holds the incoming weights of unit j of layer l+1
        in column j: the axis regularizers such as MaxNorm constrain per unit."""
        return {f"weight{l}": 1 for l in range(self.n_layers)}

    @property
    def input_shape(self) -> tuple:
        return (self.units[0],)

    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden: Sequence[int] = (48,), **kwargs):
        """units ``[n_features, *hidden, code_size]``."""
        return cls([n_features, *hidden, code_size], **kwargs)

    def extra_repr(self) -> str:
        return (f"units={self.units}, visible={self.visible!r}, mean_field_steps={self.mean_field_steps}, "
                f"n_chains={self.n_chains}, gibbs_steps={self.gibbs_steps}")

    # -- pre-training --------------------------------------------------------------------------------
    def pretraining_rbms(self) -> list:
        """The (untrained) RBMs of the layer-wise pre-training, one per weight matrix, with their
        factors: bottom ``up_factor = 2`` (doubled visible input), top ``down_factor = 2``
        (doubled hidden units), intermediate ones ordinary (Salakhutdinov & Hinton 2009, 2012)."""
        n = self.n_layers
        rbms = []
        for i in range(n):
            rbm = self.rbm_class(self.units[i], self.units[i + 1],
                                 visible=self.visible if i == 0 else "bernoulli",
                                 optimizer=self.optimizer, regularizers=self.regularizers, device=self.device)
            if n > 1:  # a single hidden layer is an RBM: nothing to correct
                rbm.up_factor = 2.0 if i == 0 else 1.0
                rbm.down_factor = 2.0 if i == n - 1 else 1.0
            rbms.append(rbm)
        return rbms

    def before_learning(self, iteratable_data: IteratableData) -> None:
        if not self.pretrain_histories_ and len(self.history_) == 0 and self.pretrain_epochs:
            self.pretrain(iteratable_data)

    def pretrain(self, iteratable_data: IteratableData) -> None:
        """Greedy pre-training of :meth:`pretraining_rbms` on the data and the hidden probabilities
        of the layers below (the bottom RBM's up pass is doubled), then composition:
        W_l from RBM l (halved for intermediate RBMs), b_0 = bottom visible bias, b_L = top hidden
        bias, middle b_l = (hidden bias of RBM l-1 + visible bias of RBM l) / 2."""
        train, test, batch_size = pretraining_arrays(iteratable_data)
        rbms = self.pretraining_rbms()
        n = len(rbms)
        for i, rbm in enumerate(rbms):
            self.pretrain_histories_.append(learn_layer(rbm, train, test, batch_size, self.pretrain_epochs))
            if i < n - 1:
                train = rbm.transform(train)
                test = None if test is None else rbm.transform(test)
        learned = [rbm.export_state() for rbm in rbms]
        state = {}
        for l in range(n):
            scale = 0.5 if 0 < l < n - 1 else 1.0
            state[f"weight{l}"] = learned[l]["weight"] * np.float32(scale)
        state["bias0"] = learned[0]["visible_bias"]
        state[f"bias{n}"] = learned[n - 1]["hidden_bias"]
        for l in range(1, n):
            state[f"bias{l}"] = 0.5 * (learned[l - 1]["hidden_bias"] + learned[l]["visible_bias"])
        self.import_state(state)
        self.chains_ = None

    # -- the model's conditionals, on backend tensors ------------------------------------------------
    def _hidden_input(self, states, l, weights, biases):
        """Total input of hidden layer ``l`` from its neighbours: x_{l-1} W_{l-1} + x_{l+1} W_l^T + b_l."""
        ops = self.ops
        pre = ops.dot(states[l - 1], weights[l - 1])
        if l < len(weights):
            pre = pre + ops.dot(states[l + 1], ops.transpose(weights[l]))
        return pre + biases[l]

    def _visible_mean(self, h1, weights, biases):
        """E[v | h1]: sigmoid(h1 W0^T + b0) (Bernoulli) or h1 W0^T + b0 (Gaussian)."""
        ops = self.ops
        pre = ops.dot(h1, ops.transpose(weights[0])) + biases[0]
        return ops.sigmoid(pre) if self.visible == "bernoulli" else pre

    def _bottom_up(self, v, weights, biases) -> list:
        """Initial posterior: one up pass with doubled weights below the top layer (the
        pre-training's recognition pass); returns [v, mu1, ..., muL]."""
        ops = self.ops
        states = [v]
        for l in range(1, len(weights) + 1):
            product = ops.dot(states[l - 1], weights[l - 1])
            if l < len(weights):
                product = 2.0 * product
            states.append(ops.sigmoid(product + biases[l]))
        return states

    def mean_field_tensors(self, v, steps: Optional[int] = None, tol: Optional[float] = None) -> list:
        """[v, mu1, ..., muL]: fixed-point sweeps mu_l = sigmoid(mu_{l-1} W_{l-1} + mu_{l+1} W_l^T
        + b_l) (in order l = 1..L), at most ``steps``, until max |change| < ``tol`` (0: all steps)."""
        ops = self.ops
        steps = self.mean_field_steps if steps is None else steps
        tol = self.mean_field_tol if tol is None else tol
        weights, biases = self.dbm_parameters()
        states = self._bottom_up(v, weights, biases)
        for _ in range(steps):
            change = 0.0
            for l in range(1, len(states)):
                new = ops.sigmoid(self._hidden_input(states, l, weights, biases))
                if tol:
                    change = max(change, ops.max_value(ops.square(new - states[l])))
                states[l] = new
            if tol and change < tol * tol:
                break
        return states

    def reconstruction_tensor(self, v, tol: Optional[float] = None):
        """E[v | h1 = mu1], (N, n_visible)."""
        weights, biases = self.dbm_parameters()
        return self._visible_mean(self.mean_field_tensors(v, tol=tol)[1], weights, biases)

    def _draw_visible(self, h1, weights, biases):
        ops = self.ops
        mean = self._visible_mean(h1, weights, biases)
        return ops.bernoulli(mean) if self.visible == "bernoulli" else mean + ops.normal_like(mean)

    def gibbs_step(self, states: list) -> list:
        """One block-Gibbs step over all layers: odd layers given even ones, then even given odd."""
        ops = self.ops
        weights, biases = self.dbm_parameters()
        states = list(states)
        for l in range(1, len(states), 2):
            states[l] = ops.bernoulli(ops.sigmoid(self._hidden_input(states, l, weights, biases)))
        states[0] = self._draw_visible(states[1], weights, biases)
        for l in range(2, len(states), 2):
            states[l] = ops.bernoulli(ops.sigmoid(self._hidden_input(states, l, weights, biases)))
        return states

    def energy_tensor(self, states: list):
        """E(v, h1, ..., hL) per sample, (N,)."""
        ops = self.ops
        weights, biases = self.dbm_parameters()
        energy = -ops.sum(ops.dot(states[0], weights[0]) * states[1], axis=1)
        for l in range(1, len(weights)):
            energy = energy - ops.sum(ops.dot(states[l], weights[l]) * states[l + 1], axis=1)
        for l in range(1, len(states)):
            energy = energy - ops.dot(states[l], biases[l])
        if self.visible == "bernoulli":
            return energy - ops.dot(states[0], biases[0])
        return energy + 0.5 * ops.sum(ops.square(states[0] - biases[0]), axis=1)

    def _initial_chains(self, v) -> list:
        """Chains started at (repeated) data with hidden states sampled from the up pass."""
        ops = self.ops
        reps = -(-self.n_chains // len(v))
        v0 = ops.concat([v] * reps, axis=0)[:self.n_chains] if reps > 1 else v[:self.n_chains]
        weights, biases = self.dbm_parameters()
        states = self._bottom_up(v0, weights, biases)
        return [v0] + [ops.bernoulli(p) for p in states[1:]]

    def _dbm_loss(self, batch: Batch, advance: bool):
        ops = self.ops
        v = batch.inputs
        with ops.no_grad():
            positive = self.mean_field_tensors(ops.detach(v))
            chains = self.chains_ if self.chains_ is not None else self._initial_chains(ops.detach(v))
            if advance:
                for _ in range(self.gibbs_steps):
                    chains = self.gibbs_step(chains)
                self.chains_ = chains
            weights, biases = self.dbm_parameters()
            error = ops.mean(ops.square(self._visible_mean(positive[1], weights, biases) - batch.clean))
        loss = ops.mean(self.energy_tensor([v] + positive[1:])) - ops.mean(self.energy_tensor(chains))
        return loss, {"reconstruction_mse": error}

    def batch_loss(self, batch: Batch):
        """mean E(v, mu) - mean E(chains), after advancing the persistent chains; the metric is the
        MSE of E[v | mu1] against the clean inputs."""
        return self._dbm_loss(batch, advance=True)

    def test_batch_loss(self, batch: Batch):
        """The same objective against the current chains, which held-out batches do not advance."""
        return self._dbm_loss(batch, advance=False)

    # -- NumPy-facing methods ------------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.apply_numpy(self.reconstruction_tensor, x)

    def mean_field(self, observed_arr: np.ndarray) -> List[np.ndarray]:
        """Mean-field posteriors [(N, h1), ..., (N, hL)]."""
        x = self.check_samples("observed_arr", observed_arr)
        joined = self._chunked(lambda chunk: self.apply_numpy(
            lambda v: self.ops.concat(self.mean_field_tensors(v)[1:], axis=1), chunk), x)
        return np.split(joined, np.cumsum(self.units[1:-1]), axis=1)

    def transform(self, observed_arr: np.ndarray, layer: int = -1) -> np.ndarray:
        """Mean-field posterior of hidden layer ``layer`` (0-based among hidden layers; -1: top)."""
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not -self.n_layers <= layer < self.n_layers:
            raise InputError(f"layer must be an integer in [{-self.n_layers}, {self.n_layers - 1}], got {layer!r}")
        return self.mean_field(observed_arr)[layer]

    extract_feature_points = encode = transform

    def decode(self, code_arr: np.ndarray) -> np.ndarray:
        """Deterministic down pass from top-layer codes, (N, hL) -> (N, n_visible): hidden layers
        get doubled top-down input (mirroring the doubled up pass), the visible layer E[v | h1]."""
        h = check_array("code_arr", code_arr, ndim=2, n_features=self.units[-1])

        def down(x):
            ops = self.ops
            weights, biases = self.dbm_parameters()
            for l in reversed(range(1, self.n_layers)):
                x = ops.sigmoid(2.0 * ops.dot(x, ops.transpose(weights[l])) + biases[l])
            return self._visible_mean(x, weights, biases)

        return self._chunked(lambda chunk: self.apply_numpy(down, chunk), h)

    def sample(self, n: int, gibbs_steps: int = 1000, seed: Optional[int] = None) -> np.ndarray:
        """``n`` samples (n, n_visible): E[v | h1] after ``gibbs_steps`` block-Gibbs steps from random
        binary states. ``seed`` re-seeds the backend's generator."""
        n, gibbs_steps = _check_sample_args(n, gibbs_steps)
        rng = _seed_backend(self, seed)
        start = (rng.random((n, sum(self.units))) < 0.5).astype(np.float32)
        bounds = [int(b) for b in np.cumsum([0] + self.units)]

        def generate(x):
            states = [x[:, bounds[l]:bounds[l + 1]] for l in range(len(self.units))]
            for _ in range(gibbs_steps):
                states = self.gibbs_step(states)
            weights, biases = self.dbm_parameters()
            return self._visible_mean(states[1], weights, biases)

        return self.apply_numpy(generate, start)

    # -- likelihood (NumPy, float64; accelbrainbase.models.dbm_likelihood) -----------------------------
    def _numpy_dbm_params(self):
        """([W_0, ..., W_(L-1)], [b_0, ..., b_L]) as NumPy arrays from :meth:`export_state`."""
        state = self.export_state()
        return ([state[f"weight{l}"] for l in range(self.n_layers)],
                [state[f"bias{l}"] for l in range(self.n_layers + 1)])

    def log_partition(self, max_units: int = 20) -> float:
        """Exact log Z by enumerating the smaller parity class (odd or even layers, at most
        ``max_units`` units in total); larger models: :meth:`ais_log_partition`."""
        from accelbrainbase.models.dbm_likelihood import log_partition_exact

        return log_partition_exact(*self._numpy_dbm_params(), visible=self.visible, max_units=max_units)

    def ais_log_partition(self, n_chains: int = 100, n_betas: int = 10000, seed: Optional[int] = None):
        """Annealed importance sampling estimate of log Z (an ``AISResult``) from the base model
        with zero weights and the same biases (Salakhutdinov & Hinton 2009, section 4)."""
        from accelbrainbase.models.dbm_likelihood import ais_log_partition

        return ais_log_partition(*self._numpy_dbm_params(), visible=self.visible, n_chains=n_chains,
                                 n_betas=n_betas, seed=seed)

    def log_likelihood_lower_bound(self, observed_arr: np.ndarray, log_z: Optional[float] = None,
                                   mean_field_steps: Optional[int] = None) -> np.ndarray:
        """Mean-field variational lower bound on log p(v) per sample, (N,): -E(v, mu) + H(mu) - log Z
        with mu from :meth:`mean_field` (``mean_field_steps`` overrides the model's number of
        sweeps). ``log_z=None`` computes log Z exactly (small models); otherwise pass an estimate,
        e.g. ``ais_log_partition().log_z``. Bernoulli inputs must be binary."""
        from accelbrainbase.models.dbm_likelihood import variational_lower_bound

        x = self.check_samples("observed_arr", observed_arr)
        weights, biases = self._numpy_dbm_params()
        if log_z is None:
            log_z = self.log_partition()
        if mean_field_steps is None:
            mu = self.mean_field(x)
        else:
            steps = check_positive("mean_field_steps", mean_field_steps, integer=True)
            joined = self._chunked(lambda chunk: self.apply_numpy(
                lambda v: self.ops.concat(self.mean_field_tensors(v, steps=steps)[1:], axis=1), chunk), x)
            mu = np.split(joined, np.cumsum(self.units[1:-1]), axis=1)
        return variational_lower_bound(x, weights, biases, mu, log_z, visible=self.visible)
