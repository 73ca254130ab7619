"""Losses as :class:`ComputableLoss` (PyTorch). Each returns the batch mean."""
from __future__ import annotations

import torch.nn.functional as F

from accelbrainbase.core.interfaces import ComputableLoss
from accelbrainbase.core.losses import LossBase


class MeanSquaredError(LossBase, ComputableLoss):
    """Mean over all elements of ``(pred - real) ** 2``."""

    def compute(self, pred_arr, real_arr):
        return F.mse_loss(pred_arr, real_arr)


class MeanAbsoluteError(LossBase, ComputableLoss):
    """Mean over all elements of ``|pred - real|``."""

    def compute(self, pred_arr, real_arr):
        return F.l1_loss(pred_arr, real_arr)


class BinaryCrossEntropy(LossBase, ComputableLoss):
    """Elementwise cross-entropy of probabilities ``pred`` in (0, 1) against targets in [0, 1]."""

    def compute(self, pred_arr, real_arr):
        return F.binary_cross_entropy(pred_arr.clamp(1e-7, 1 - 1e-7), real_arr)


class CrossEntropy(LossBase, ComputableLoss):
    """Softmax cross-entropy of logits (N, classes) against integer labels (N,); metric: accuracy."""

    class_labels = True

    def compute(self, pred_arr, real_arr):
        return F.cross_entropy(pred_arr, real_arr.long())

    def metrics(self, pred, real):
        return {"accuracy": (pred.argmax(dim=1) == real).float().mean()}
