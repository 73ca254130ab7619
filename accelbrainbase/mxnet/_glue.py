"""MXNet Gluon glue: arrays, contexts, trainers, activations and the step functions of the loop."""
from __future__ import annotations

import warnings
from typing import Any, Dict, Iterable

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, nd

from accelbrainbase.core.devices import parse_device
from accelbrainbase.core.errors import InputError
from accelbrainbase.core.interfaces import Batch, RegularizatableData
from accelbrainbase.core.learner import Learner
from accelbrainbase.core.optim import as_optimizer_spec

#: Glorot/Xavier uniform, the same initialisation as the torch backend
WEIGHT_INIT = mx.init.Xavier(rnd_type="uniform", factor_type="avg", magnitude=3)


def activate(F, name: str, x):
    """Apply the activation ``name`` with ``F`` (mx.nd or mx.sym, so it hybridizes)."""
    if name == "identity":
        return x
    if name in ("relu", "sigmoid", "tanh"):
        return F.Activation(x, act_type=name)
    if name == "softplus":
        return F.Activation(x, act_type="softrelu")
    if name == "leaky_relu":
        return F.LeakyReLU(x, act_type="leaky", slope=0.01)
    if name == "elu":
        return F.LeakyReLU(x, act_type="elu", slope=1.0)
    if name == "gelu":
        return F.LeakyReLU(x, act_type="gelu")
    if name == "softmax":
        return F.softmax(x, axis=-1)
    raise InputError(f"unknown activation {name!r}")


class MXNetOps:
    """The tensor operations that backend-neutral math in core/ is written with (imperative)."""

    dot = staticmethod(nd.dot)
    sigmoid = staticmethod(nd.sigmoid)
    exp = staticmethod(nd.exp)
    log = staticmethod(nd.log)
    square = staticmethod(nd.square)
    no_grad = staticmethod(autograd.pause)
    transpose = staticmethod(nd.transpose)

    @staticmethod
    def softplus(x):
        return nd.Activation(x, act_type="softrelu")

    @staticmethod
    def sum(x, axis=None):
        return nd.sum(x) if axis is None else nd.sum(x, axis=axis)

    @staticmethod
    def mean(x, axis=None):
        return nd.mean(x) if axis is None else nd.mean(x, axis=axis)

    @staticmethod
    def uniform_like(x):
        return nd.random.uniform(shape=x.shape, ctx=x.context, dtype=x.dtype)

    @staticmethod
    def normal_like(x):
        return nd.random.normal(shape=x.shape, ctx=x.context, dtype=x.dtype)

    @staticmethod
    def bernoulli(p):
        """Binary samples with probabilities ``p`` (drawn as uniform < p, as in torch)."""
        return MXNetOps.uniform_like(p) < p

    @staticmethod
    def detach(x):
        return x.detach()

    @staticmethod
    def relu(x):
        return nd.relu(x)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def concat(xs, axis=0):
        return nd.concat(*xs, dim=axis)

    @staticmethod
    def max_value(x) -> float:
        """The largest element as a Python float (synchronises)."""
        return float(nd.max(x).asscalar())


OPS = MXNetOps()


def mx_context(device: str) -> mx.Context:
    parsed = parse_device(device)
    if parsed.kind == "cpu":
        return mx.cpu()
    gpus = mx.context.num_gpus()
    if parsed.index >= gpus:
        raise InputError(f"device {device!r} was requested but mxnet sees {gpus} GPU(s)")
    return mx.gpu(parsed.index)


def make_trainer(optimizer: Any, params) -> gluon.Trainer:
    """A gluon Trainer from a name, an OptimizerSpec, or an ``mx.optimizer.Optimizer``."""
    spec = as_optimizer_spec(optimizer)
    if spec is None:
        return gluon.Trainer(params, optimizer)
    args = {"learning_rate": spec.learning_rate, "wd": spec.weight_decay}
    name = {"sgd": "sgd", "momentum": "sgd", "nesterov": "nag", "adam": "adam",
            "adagrad": "adagrad", "nadam": "nadam", "rmsprop": "rmsprop"}[spec.name]
    if spec.name in ("momentum", "nesterov"):
        args["momentum"] = spec.momentum
    if spec.name in ("adam", "nadam"):
        args.update(beta1=spec.beta1, beta2=spec.beta2)
    if spec.name == "adagrad":
        args["eps"] = 1e-10
    if spec.name == "rmsprop":
        args.update(gamma1=0.99, epsilon=1e-8)
    return gluon.Trainer(params, name, args)


def _canonical(name: str) -> str:
    head, _, last = name.rpartition(".")
    return f"{head}.{ {'gamma': 'weight', 'beta': 'bias'}.get(last, last) }".lstrip(".")


class GluonModel(Learner, gluon.HybridBlock):
    """Base of every MXNet model: the steps the core loop calls, state export, contexts."""

    ops = OPS

    def _setup_learning(self, loss: Any = "mse", optimizer: Any = "adam",
                        regularizers: Iterable[RegularizatableData] = (), device: str = "cpu") -> None:
        """``optimizer``: a name, an OptimizerSpec, or an ``mx.optimizer.Optimizer``."""
        from accelbrainbase.mxnet import losses

        self._store_learning_settings(loss, optimizer, regularizers, device, losses,
                                      lambda o: isinstance(o, mx.optimizer.Optimizer), "an mx.optimizer.Optimizer")
        self.context = mx_context(device)
        with warnings.catch_warnings():  # parts built on their own are initialised already
            warnings.simplefilter("ignore")
            self.initialize(WEIGHT_INIT, ctx=self.context)
        self.collect_params().reset_ctx(self.context)
        self.hybridize()
        self._trainer = None

    # -- structure (lets core constructors declare parameters and children) -------------------
    def add_parameter(self, name: str, shape: tuple, std: float = 0.0) -> None:
        """A parameter ``name``: N(0, std^2) entries, or zeros when ``std`` is 0."""
        init = mx.init.Normal(std) if std else "zeros"
        setattr(self, name, self.params.get(name, shape=shape, init=init))

    def parameter_value(self, name: str):
        return getattr(self, name).data()

    def add_children(self, name: str, children) -> None:
        """Child models under ``name`` (canonical names ``name.0....``)."""
        container = gluon.nn.HybridSequential()
        for child in children:
            container.add(child)
        setattr(self, name, container)

    # -- conversion -------------------------------------------------------------------------------
    def _tensor(self, arr: Any) -> nd.NDArray:
        if isinstance(arr, nd.NDArray):
            return arr.as_in_context(self.context)
        arr = np.asarray(arr)
        if arr.dtype.kind in "fiub" and arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        # zero-copy hand-over of a private contiguous copy (nd.array would copy synchronously)
        tensor = nd.from_numpy(np.array(arr, copy=True, order="C"), zero_copy=True)
        return tensor if self.context == mx.cpu() else tensor.as_in_context(self.context)

    def apply_numpy(self, fn, x: np.ndarray) -> np.ndarray:
        """Run ``fn`` on a NumPy array in prediction mode without recording; return NumPy."""
        return fn(self._tensor(x)).asnumpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.apply_numpy(self, x)

    # -- the steps of the core loop -----------------------------------------------------------
    def _native_trainer(self) -> gluon.Trainer:
        if self._trainer is None:
            self._trainer = make_trainer(self.optimizer, self.collect_params())
        return self._trainer

    def learn_step(self, batch: Batch) -> Dict[str, Any]:
        """One update. The logs stay NDArrays (no synchronisation here): the core loop reads
        them one step later, so a non-finite loss is caught after its update was applied and the
        loop restores the weights from the start of the epoch."""
        trainer = self._native_trainer()
        batch = self._batch(batch)
        with autograd.record(train_mode=True):
            loss, metrics = self.batch_loss(batch)
        loss.backward()
        trainer.step(1)  # losses are batch means already
        self.apply_regularizers()
        return {"loss": loss, **metrics}

    def resolve_logs(self, raw_logs: Dict[str, Any]) -> Dict[str, float]:
        return {key: float(value.asscalar()) for key, value in raw_logs.items()}

    def test_step(self, batch: Batch) -> Dict[str, float]:
        return {k: float(v.asscalar()) for k, v in self.test_logs(self._step_batch(batch)).items()}

    # -- composites: one part's update inside the step of a controller (GAN, AAE, ...) ---------
    def optimize(self, part: "GluonModel", closure) -> Dict[str, Any]:
        """Update ``part`` with its own trainer (and regularizers) on the loss that ``closure()``
        returns as ``(loss, logs)`` (recorded); returns ``logs`` unsynchronised, like
        :meth:`learn_step` (the loop reads them a few steps later)."""
        trainer = part._native_trainer()
        with autograd.record(train_mode=True):
            loss, logs = closure()
        loss.backward()
        trainer.step(1)
        part.apply_regularizers()
        return {k: v.detach() for k, v in logs.items()}

    def set_learning_rate(self, rate: float) -> None:
        self._native_trainer().set_learning_rate(rate)

    # -- state ---------------------------------------------------------------------------------------
    def _canonical_parameters(self) -> Dict[str, gluon.Parameter]:
        """Structural names, one per parameter (a tied weight is named where it is owned)."""
        seen, named = set(), {}
        for name, param in self._collect_params_with_prefix().items():
            if id(param) not in seen:
                seen.add(id(param))
                named[_canonical(name)] = param
        return named

    def _weight_parameters(self):
        """The weights regularizers constrain, each with the axis of its units (UnitWeights)."""
        from accelbrainbase.mxnet.regularizers import unit_weights

        return unit_weights(self)

    def export_state(self) -> Dict[str, np.ndarray]:
        """Weights and running statistics as NumPy copies under canonical names (shared with torch)."""
        return {name: p.data().asnumpy().copy() for name, p in self._canonical_parameters().items()}

    def import_state(self, state: Dict[str, np.ndarray]) -> None:
        own = self._canonical_parameters()
        self._matching_state(own, state)
        for name, param in own.items():
            value = np.asarray(state[name], dtype=np.float32)
            param.set_data(nd.array(value, ctx=self.context))

    @property
    def n_parameters(self) -> int:
        return int(sum(np.prod(p.shape) for p in self._canonical_parameters().values() if p.grad_req != "null"))
