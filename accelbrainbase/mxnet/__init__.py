"""MXNet Gluon backend: every model is a ``gluon.HybridBlock`` (``hybridize()`` and ``export()``).

Exports the same public names as :mod:`accelbrainbase.torch`.
"""
import sys

from accelbrainbase.core.backends import require_framework

_torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
require_framework("mxnet")
if _torch_threads:  # importing mxnet sets the process's OpenMP threads to 1; give torch its own back
    sys.modules["torch"].set_num_threads(_torch_threads)

from accelbrainbase.mxnet.boltzmann import (  # noqa: E402
    DeepBeliefNetworks, DeepBoltzmannMachines, RestrictedBoltzmannMachines,
)
from accelbrainbase.mxnet.losses import (  # noqa: E402
    BinaryCrossEntropy, CrossEntropy, MeanAbsoluteError, MeanSquaredError,
)
from accelbrainbase.mxnet.networks import (  # noqa: E402
    AutoEncoder, DenoisingAutoEncoder, NeuralNetworks, StackedAutoEncoder,
)
from accelbrainbase.mxnet.regularizers import MaxNorm  # noqa: E402

__all__ = [
    "AutoEncoder", "BinaryCrossEntropy", "CrossEntropy", "DeepBeliefNetworks", "DeepBoltzmannMachines",
    "DenoisingAutoEncoder", "MaxNorm",
    "MeanAbsoluteError", "MeanSquaredError", "NeuralNetworks", "RestrictedBoltzmannMachines",
    "StackedAutoEncoder",
]
