"""What every composite (``ControllableModel``: GAN, AAE, DQN, SSDA, Transformer controllers)
shares: parts that are models of this library, each learning with its own optimizer, driven by
the one learning loop with the composite's own step order.

A controller's ``learn_step(batch)`` (written once in ``models/``) updates a part with the
backend primitive ``self.optimize(part, closure)`` (``closure() -> (loss, logs)``; see
``torch/_glue.py`` and ``mxnet/_glue.py``). The loop averages each logged quantity over the
steps that logged it and stops on the first non-finite one; held-out batches go through
``test_logs``; each part's learning-rate schedule is applied per epoch. ``export_state`` covers
every part under its attribute name, so persistence, early stopping and the NaN restore see all
parts at once.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from accelbrainbase.core.errors import InputError
from accelbrainbase.core.interfaces import Batch, ControllableModel
from accelbrainbase.core.learner import Learner


def check_part(role: str, model: Any) -> None:
    """Raise unless ``model`` is a model of this library (a Learner with an input shape)."""
    if not isinstance(model, Learner) or not hasattr(model, "input_shape"):
        raise InputError(f"{role} must be a model of this library (e.g. NeuralNetworks), got {model!r}")


class PartBase(Learner):
    """A part of a controller that wraps a model (attribute ``_wrapped``); it learns with its own
    optimizer (``optimizer=None``: the wrapped model's) and the wrapped model's regularizers."""

    _wrapped = "network"

    def _setup_part(self, optimizer, device) -> None:
        network = getattr(self, self._wrapped)
        self._setup_learning("mse", network.optimizer if optimizer is None else optimizer,
                             network.regularizers, network.device if device is None else device)


class ControllerBase(Learner, ControllableModel):
    """Base of the controllers: ``part_names`` lists the parts (attributes); ``optimized_parts``
    the models that own an optimizer (by default the parts). Call ``_setup_controller(device)``
    at the end of the constructor."""

    #: the parts (attribute names), each a model of this library
    part_names: Tuple[str, ...] = ()

    def _setup_controller(self, device: Optional[str]) -> None:
        devices = {part.device for part in self.parts}
        if device is None and len(devices) > 1:
            raise InputError(f"the parts live on different devices {sorted(devices)}; pass device=...")
        self._setup_learning("mse", "adam", (), devices.pop() if device is None else device)
        self.optimizer = self.loss = None  # each part learns with its own optimizer

    @property
    def parts(self):
        return [getattr(self, name) for name in self.part_names]

    def optimized_parts(self):
        return self.parts

    def schedule_learning_rates(self, epoch: int) -> None:
        for part in self.optimized_parts():
            rate = part.learning_rate_at(epoch)
            if rate is not None:
                part.set_learning_rate(rate)

    def learning_rate_at(self, epoch: int):
        return None

    def _step_batch(self, batch: Batch) -> Batch:
        return batch  # NumPy: the step converts what each part needs (labels stay NumPy)
