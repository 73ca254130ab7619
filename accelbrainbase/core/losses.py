"""Loss names shared by both backends; each backend's ``losses`` module implements them."""
from __future__ import annotations

#: loss name -> class name in each backend's ``losses`` module
LOSSES = {
    "mse": "MeanSquaredError",
    "mae": "MeanAbsoluteError",
    "binary_cross_entropy": "BinaryCrossEntropy",
    "cross_entropy": "CrossEntropy",
}


class LossBase:
    """Common behaviour of loss objects: no hyper-parameters, no metrics unless overridden."""

    def get_config(self) -> dict:
        return {}

    def metrics(self, pred, real) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
