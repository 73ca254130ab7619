"""The eight interfaces that make parts substitutable.

The names come from the original accelbrainbase design. Implementations in ``data/`` are
NumPy-only; models in ``torch/`` and ``mxnet/`` implement :class:`ObservableData` or
:class:`ControllableModel`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterable, Iterator, NamedTuple, Optional

import numpy as np


class Batch(NamedTuple):
    """One mini-batch, NumPy until a backend converts it at the start of a step.

    ``inputs`` may carry noise; ``clean`` is the same samples without noise (the target of an
    auto-encoder); ``targets`` are labels or regression targets (``None`` when unlabelled).
    """

    inputs: Any
    clean: Any
    targets: Any = None


class ExtractableData(ABC):
    """Reads data from a path into a NumPy array."""

    @abstractmethod
    def extract(self, path: str) -> np.ndarray:
        """Return the data stored at ``path``."""


class NoiseableData(ABC):
    """Adds noise to inputs; targets stay clean. Never modifies its argument in place."""

    @abstractmethod
    def noise(self, arr: np.ndarray) -> np.ndarray:
        """Return a noisy copy of ``arr``."""


class IteratableData(ABC):
    """Yields mini-batches: one epoch of shuffled training batches per call, and held-out batches.

    Attributes every implementation provides: ``batch_size``, ``epochs``, ``noiseable_data``
    (a :class:`NoiseableData` or ``None``), ``sample_shape`` (shape of one sample),
    ``has_labels`` and ``has_test``.
    """

    batch_size: int
    epochs: int
    noiseable_data: Optional[NoiseableData] = None

    @abstractmethod
    def generate_learned_samples(self) -> Iterator[Batch]:
        """One epoch of training batches: every sample once, shuffled, last partial batch kept."""

    @abstractmethod
    def generate_inferenced_samples(self) -> Iterator[Batch]:
        """The held-out batches in order (nothing when there is no held-out data)."""

    @property
    @abstractmethod
    def sample_shape(self) -> tuple:
        """Shape of one input sample, e.g. ``(64,)`` or ``(1, 28, 28)``."""

    @property
    @abstractmethod
    def has_labels(self) -> bool:
        """Whether batches carry ``targets``."""

    @property
    @abstractmethod
    def has_test(self) -> bool:
        """Whether :meth:`generate_inferenced_samples` yields anything."""


class SamplableData(ABC):
    """Draws samples: noise, priors, true data, conditions, environment observations."""

    @abstractmethod
    def draw(self) -> np.ndarray:
        """Return one batch of samples."""


class ObservableData(ABC):
    """A single model: learns from an :class:`IteratableData`, infers from arrays."""

    @abstractmethod
    def learn(self, iteratable_data: IteratableData, **kwargs: Any) -> "ObservableData":
        """Learn from the mini-batches of ``iteratable_data``; return ``self``."""

    @abstractmethod
    def inference(self, observed_arr: np.ndarray) -> np.ndarray:
        """Return the model's output for ``observed_arr``."""


class ComputableLoss(ABC):
    """A loss: a scalar (backend tensor) from predictions and targets."""

    @abstractmethod
    def compute(self, pred_arr: Any, real_arr: Any) -> Any:
        """Return the mean loss over the batch."""


class RegularizatableData(ABC):
    """A constraint applied to parameters after each optimizer step (e.g. max-norm)."""

    @abstractmethod
    def regularize(self, params: Iterable[Any]) -> None:
        """Constrain ``params`` in place: the models pass their weights as
        :class:`~accelbrainbase.core.regularizers.UnitWeights` (parameter, unit axis, name)."""


class ControllableModel(ABC):
    """A composite with its own step order (GAN, DQN, SSDA, Transformer)."""

    @abstractmethod
    def learn(self, *args: Any, **kwargs: Any) -> "ControllableModel":
        """Learn; return ``self``."""

    @abstractmethod
    def inference(self, *args: Any, **kwargs: Any) -> Any:
        """Infer."""
