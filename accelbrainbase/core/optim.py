"""Optimizers by name, with a step learning-rate decay applied by the learning loop."""
from __future__ import annotations

from accelbrainbase.core.config import Configurable
from accelbrainbase.core.validation import check_choice, check_fraction, check_positive

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adagrad", "nadam", "rmsprop")

DEFAULT_LEARNING_RATES = {
    "sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adam": 1e-3,
    "adagrad": 0.01, "nadam": 2e-3, "rmsprop": 1e-3,
}


class OptimizerSpec(Configurable):
    """A backend-neutral optimizer description; each backend builds its native optimizer from it.

    ``momentum`` is used by "momentum" and "nesterov", ``beta1`` / ``beta2`` (the decay rates of
    the first and second moment estimates) by "adam" and "nadam" (GANs often use beta1 = 0.5,
    Radford et al. 2016); the learning rate at epoch ``e`` is
    ``learning_rate * decay_rate ** (e // decay_every)``.
    """

    def __init__(
        self,
        name: str = "adam",
        learning_rate: float | None = None,
        weight_decay: float = 0.0,
        momentum: float = 0.9,
        decay_rate: float = 1.0,
        decay_every: int = 1,
        beta1: float = 0.9,
        beta2: float = 0.999,
    ):
        self.name = check_choice("optimizer", name, OPTIMIZERS)
        self.learning_rate = (
            DEFAULT_LEARNING_RATES[name] if learning_rate is None
            else check_positive("learning_rate", learning_rate)
        )
        self.weight_decay = check_positive("weight_decay", weight_decay, allow_zero=True)
        self.momentum = check_fraction("momentum", momentum)
        self.decay_rate = check_fraction("decay_rate", decay_rate, allow_zero=False, allow_one=True)
        self.decay_every = check_positive("decay_every", decay_every, integer=True)
        self.beta1 = check_fraction("beta1", beta1)
        self.beta2 = check_fraction("beta2", beta2)

    def learning_rate_at(self, epoch: int) -> float:
        return self.learning_rate * self.decay_rate ** (epoch // self.decay_every)

    def __repr__(self) -> str:
        return (f"OptimizerSpec({self.name!r}, learning_rate={self.learning_rate:g}, "
                f"weight_decay={self.weight_decay:g}, decay_rate={self.decay_rate:g}"
                + (f", beta1={self.beta1:g}, beta2={self.beta2:g})" if self.name in ("adam", "nadam") else ")"))


def as_optimizer_spec(optimizer) -> OptimizerSpec | None:
    """A name becomes a spec; a spec stays; anything else is backend-native (returns None)."""
    if isinstance(optimizer, str):
        return OptimizerSpec(optimizer)
    if isinstance(optimizer, OptimizerSpec):
        return optimizer
    return None
