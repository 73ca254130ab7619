"""Error types raised for bad input and failed learning.

Every error subclasses a built-in exception, so ``except ValueError`` keeps working.
"""
from __future__ import annotations


class InputError(ValueError):
    """Data or hyper-parameters that cannot be used (wrong shape, NaN, empty, unknown name)."""


class ShapeError(InputError):
    """An array whose shape does not match what the model or iterator expects."""


class MissingDependencyError(ImportError):
    """An optional package is not installed; the message says what to install."""


class NotFittedError(RuntimeError):
    """A method that needs learned state was called before ``learn``."""


class DivergenceError(FloatingPointError):
    """The loss became NaN or infinite; learning stopped and the last good weights were kept."""

    def __init__(self, message: str, epoch: int, batch: int):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
