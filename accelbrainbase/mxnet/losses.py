"""Losses as :class:`ComputableLoss` (MXNet, imperative NDArrays). Each returns the batch mean."""
from __future__ import annotations

from mxnet import nd

from accelbrainbase.core.interfaces import ComputableLoss
from accelbrainbase.core.losses import LossBase


class MeanSquaredError(LossBase, ComputableLoss):
    """Mean over all elements of ``(pred - real) ** 2``."""

    def compute(self, pred_arr, real_arr):
        return nd.mean(nd.square(pred_arr - real_arr))


class MeanAbsoluteError(LossBase, ComputableLoss):
    """Mean over all elements of ``|pred - real|``."""

    def compute(self, pred_arr, real_arr):
        return nd.mean(nd.abs(pred_arr - real_arr))


class BinaryCrossEntropy(LossBase, ComputableLoss):
    """Elementwise cross-entropy of probabilities ``pred`` in (0, 1) against targets in [0, 1]."""

    def compute(self, pred_arr, real_arr):
        p = nd.clip(pred_arr, 1e-7, 1 - 1e-7)
        return -nd.mean(real_arr * nd.log(p) + (1 - real_arr) * nd.log(1 - p))


class CrossEntropy(LossBase, ComputableLoss):
    """Softmax cross-entropy of logits (N, classes) against integer labels (N,); metric: accuracy."""

    class_labels = True

    def compute(self, pred_arr, real_arr):
        return -nd.mean(nd.pick(nd.log_softmax(pred_arr, axis=1), real_arr, axis=1))

    def metrics(self, pred, real):
        return {"accuracy": nd.mean(nd.argmax(pred, axis=1) == real)}
