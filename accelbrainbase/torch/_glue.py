"""PyTorch glue: tensors, devices, optimizers, activations and the step functions of the loop."""
from __future__ import annotations

import math
from typing import Any, Dict, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from accelbrainbase.core.backends import restore_torch_threads
from accelbrainbase.core.devices import parse_device
from accelbrainbase.core.errors import InputError
from accelbrainbase.core.interfaces import Batch, RegularizatableData
from accelbrainbase.core.learner import Learner
from accelbrainbase.core.optim import as_optimizer_spec

ACTIVATIONS = {
    "identity": lambda x: x,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": F.softplus,
    "softmax": lambda x: F.softmax(x, dim=-1),
}


class TorchOps:
    """The tensor operations that backend-neutral math in core/ is written with (imperative)."""

    dot = staticmethod(torch.matmul)
    sigmoid = staticmethod(torch.sigmoid)
    softplus = staticmethod(F.softplus)
    exp = staticmethod(torch.exp)
    log = staticmethod(torch.log)
    square = staticmethod(torch.square)
    no_grad = staticmethod(torch.no_grad)

    @staticmethod
    def transpose(x):
        return x.t()

    @staticmethod
    def sum(x, axis=None):
        return x.sum() if axis is None else x.sum(dim=axis)

    @staticmethod
    def mean(x, axis=None):
        return x.mean() if axis is None else x.mean(dim=axis)

    @staticmethod
    def uniform_like(x):
        return torch.rand_like(x)

    @staticmethod
    def normal_like(x):
        return torch.randn_like(x)

    @staticmethod
    def bernoulli(p):
        """Binary samples with probabilities ``p`` (drawn as uniform < p, as in mxnet)."""
        return (TorchOps.uniform_like(p) < p).to(p.dtype)

    @staticmethod
    def detach(x):
        return x.detach()

    @staticmethod
    def relu(x):
        return F.relu(x)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def concat(xs, axis=0):
        return torch.cat(list(xs), dim=axis)

    @staticmethod
    def max_value(x) -> float:
        """The largest element as a Python float (synchronises)."""
        return float(x.max().item())


OPS = TorchOps()

restore_torch_threads()


def torch_device(device: str) -> torch.device:
    parsed = parse_device(device)
    if parsed.kind == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {device!r} was requested but torch sees no CUDA GPU")
        if parsed.index >= torch.cuda.device_count():
            raise InputError(f"device {device!r} was requested but torch sees "
                             f"{torch.cuda.device_count()} GPU(s)")
    return torch.device(str(parsed))


def make_optimizer(optimizer: Any, params: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
    """A torch optimizer from a name, an OptimizerSpec, or a callable ``params -> Optimizer``."""
    spec = as_optimizer_spec(optimizer)
    params = list(params)
    if spec is None:
        built = optimizer(params)
        if not isinstance(built, torch.optim.Optimizer):
            raise InputError(f"optimizer callable returned {type(built).__name__}, not a torch optimizer")
        return built
    lr, wd = spec.learning_rate, spec.weight_decay
    if spec.name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if spec.name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=spec.momentum, weight_decay=wd,
                               nesterov=spec.name == "nesterov")
    if spec.name in ("adam", "nadam"):
        cls = torch.optim.Adam if spec.name == "adam" else torch.optim.NAdam
        return cls(params, lr=lr, weight_decay=wd, betas=(spec.beta1, spec.beta2))
    cls = {"adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop}[spec.name]
    return cls(params, lr=lr, weight_decay=wd)


class TorchModel(Learner, nn.Module):
    """Base of every PyTorch model: the steps the core loop calls, state export, devices."""

    ops = OPS

    def _setup_learning(self, loss: Any = "mse", optimizer: Any = "adam",
                        regularizers: Iterable[RegularizatableData] = (), device: str = "cpu") -> None:
        """``optimizer``: a name, an OptimizerSpec, or a callable ``params -> torch.optim.Optimizer``."""
        from accelbrainbase.torch import losses

        self._store_learning_settings(loss, optimizer, regularizers, device, losses, callable,
                                      "a callable params -> torch.optim.Optimizer")
        self.to(torch_device(device))
        self._optimizer = None

    # -- structure (lets core constructors declare parameters and children) -------------------
    def add_parameter(self, name: str, shape: tuple, std: float = 0.0) -> None:
        """A parameter ``name``: N(0, std^2) entries, or zeros when ``std`` is 0."""
        value = torch.randn(*shape) * std if std else torch.zeros(*shape)
        setattr(self, name, nn.Parameter(value))

    def parameter_value(self, name: str):
        return getattr(self, name)

    def add_children(self, name: str, children) -> None:
        """Child models under ``name`` (canonical names ``name.0....``)."""
        setattr(self, name, nn.ModuleList(children))

    # -- conversion -------------------------------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:
        return torch_device(self.device)

    def _tensor(self, arr: Any) -> torch.Tensor:
        if isinstance(arr, torch.Tensor):
            return arr.to(self.torch_device)
        tensor = torch.from_numpy(np.ascontiguousarray(arr))
        if tensor.dtype == torch.float64:
            tensor = tensor.float()
        return tensor.to(self.torch_device, non_blocking=True)

    def apply_numpy(self, fn, x: np.ndarray) -> np.ndarray:
        """Run ``fn`` on a NumPy array in evaluation mode without gradients; return NumPy."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return fn(self._tensor(x)).detach().cpu().numpy()
        finally:
            self.train(was_training)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.apply_numpy(self, x)

    # -- the steps of the core loop -----------------------------------------------------------
    def _native_optimizer(self) -> torch.optim.Optimizer:
        if self._optimizer is None:
            self._optimizer = make_optimizer(self.optimizer, self.parameters())
        return self._optimizer

    def learn_step(self, batch: Batch) -> Dict[str, float]:
        optimizer = self._native_optimizer()
        if not self.training:
            self.train()
        loss, metrics = self.batch_loss(self._batch(batch))
        value = loss.item()
        if not math.isfinite(value):
            return {"loss": value}
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        self.apply_regularizers()
        return {"loss": value, **{k: float(v) for k, v in metrics.items()}}

    def test_step(self, batch: Batch) -> Dict[str, float]:
        if self.training:
            self.eval()
        with torch.no_grad():
            return {k: float(v) for k, v in self.test_logs(self._step_batch(batch)).items()}

    # -- composites: one part's update inside the step of a controller (GAN, AAE, ...) ---------
    def optimize(self, part: "TorchModel", closure) -> Dict[str, float]:
        """Update ``part`` with its own optimizer (and regularizers) on the loss that
        ``closure()`` returns as ``(loss, logs)``; returns ``logs`` as floats. A non-finite loss
        skips the update (the loop then stops learning, naming the quantity)."""
        optimizer = part._native_optimizer()
        if not self.training:
            self.train()
        loss, logs = closure()
        logs = {k: v.item() for k, v in logs.items()}
        if not math.isfinite(loss.item()):
            return logs
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        part.apply_regularizers()
        return logs

    def set_learning_rate(self, rate: float) -> None:
        for group in self._native_optimizer().param_groups:
            group["lr"] = rate

    # -- state ---------------------------------------------------------------------------------------
    def export_state(self) -> Dict[str, np.ndarray]:
        """Weights and buffers as NumPy copies under canonical names (shared with mxnet)."""
        state = {name: p.detach().cpu().numpy().copy() for name, p in self.named_parameters()}
        state.update({name: b.detach().cpu().numpy().copy() for name, b in self.named_buffers()
                      if not name.endswith("num_batches_tracked")})
        return state

    def import_state(self, state: Dict[str, np.ndarray]) -> None:
        own = dict(self.named_parameters())
        own.update({n: b for n, b in self.named_buffers() if not n.endswith("num_batches_tracked")})
        self._matching_state(own, state)
        with torch.no_grad():
            for name, tensor in own.items():
                value = np.asarray(state[name])
                tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(tensor.dtype))

    def _weight_parameters(self):
        """The weights regularizers constrain, each with the axis of its units (UnitWeights)."""
        from accelbrainbase.torch.regularizers import unit_weights

        return unit_weights(self)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
