"""PyTorch backend: every model is a plain ``torch.nn.Module``.

Exports the same public names as :mod:`accelbrainbase.mxnet`.
"""
from accelbrainbase.core.backends import require_framework

require_framework("torch")

from accelbrainbase.torch.boltzmann import RestrictedBoltzmannMachines  # noqa: E402
from accelbrainbase.torch.losses import (  # noqa: E402
    BinaryCrossEntropy, CrossEntropy, MeanAbsoluteError, MeanSquaredError,
)
from accelbrainbase.torch.networks import (  # noqa: E402
    AutoEncoder, DenoisingAutoEncoder, NeuralNetworks, StackedAutoEncoder,
)
from accelbrainbase.torch.regularizers import MaxNorm  # noqa: E402

__all__ = [
    "AutoEncoder", "BinaryCrossEntropy", "CrossEntropy", "DenoisingAutoEncoder", "MaxNorm",
    "MeanAbsoluteError", "MeanSquaredError", "NeuralNetworks", "RestrictedBoltzmannMachines",
    "StackedAutoEncoder",
]
