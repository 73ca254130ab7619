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

    #: whether the targets are class indices 0..K-1 (checked by ``Learner.check_data``)
    class_labels = False

    def get_config(self) -> dict:
        return {}

    def metrics(self, pred, real) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def resolve_loss(loss, losses_module):
    """A loss object from a name in :data:`LOSSES` (built from the backend's ``losses`` module)
    or a :class:`ComputableLoss` given as is."""
    from accelbrainbase.core.errors import InputError
    from accelbrainbase.core.interfaces import ComputableLoss

    if isinstance(loss, ComputableLoss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return getattr(losses_module, LOSSES[loss])()
    raise InputError(f"unknown loss {loss!r}; valid: {', '.join(LOSSES)} or a ComputableLoss")
