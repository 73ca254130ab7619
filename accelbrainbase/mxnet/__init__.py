"""MXNet Gluon backend: every model is a ``gluon.HybridBlock`` (``hybridize()`` and ``export()``).

Exports the same public names as :mod:`accelbrainbase.torch`.
"""
from accelbrainbase.core.backends import require_framework, restore_torch_threads

require_framework("mxnet")
restore_torch_threads()

from accelbrainbase.mxnet.adversarial import (  # noqa: E402
    AAEController, ConditionalGANController, DiscriminativeModel, DiscriminatorLoss, EBAAEController,
    EBDiscriminativeModel, EBDiscriminatorLoss, EBGANController, EBGeneratorLoss, FeatureMatchingLoss,
    GANController, GenerativeModel, GeneratorLoss,
)
from accelbrainbase.mxnet.boltzmann import (  # noqa: E402
    DeepBeliefNetworks, DeepBoltzmannMachines, RestrictedBoltzmannMachines,
)
from accelbrainbase.mxnet.mobilenet import MobileNetV2  # noqa: E402
from accelbrainbase.mxnet.convolutional import (  # noqa: E402
    ContractiveAutoEncoder, ContractiveConvolutionalAutoEncoder, ConvolutionalAutoEncoder,
    ConvolutionalNeuralNetworks, RepellingConvolutionalAutoEncoder,
)
from accelbrainbase.mxnet.ladder import ConvolutionalLadderNetworks, LadderNetworks  # noqa: E402
from accelbrainbase.mxnet.losses import (  # noqa: E402
    BinaryCrossEntropy, CrossEntropy, MeanAbsoluteError, MeanSquaredError,
)
from accelbrainbase.mxnet.networks import (  # noqa: E402
    AutoEncoder, DenoisingAutoEncoder, NeuralNetworks, StackedAutoEncoder,
)
from accelbrainbase.mxnet.regularizers import MaxNorm  # noqa: E402
from accelbrainbase.mxnet.recurrent import EncDecAD, EncoderDecoder, LSTMNetworks  # noqa: E402
from accelbrainbase.mxnet.variational import (  # noqa: E402
    ConvolutionalDecoder, ConvolutionalVariationalAutoEncoder, VariationalAutoEncoder,
)

__all__ = [
    "AAEController", "ConditionalGANController", "DiscriminativeModel", "DiscriminatorLoss", "EBAAEController",
    "EBDiscriminativeModel", "EBDiscriminatorLoss", "EBGANController", "EBGeneratorLoss", "FeatureMatchingLoss",
    "GANController", "GenerativeModel", "GeneratorLoss",
    "ContractiveAutoEncoder", "ContractiveConvolutionalAutoEncoder", "ConvolutionalAutoEncoder",
    "ConvolutionalNeuralNetworks", "RepellingConvolutionalAutoEncoder",
    "ConvolutionalLadderNetworks", "LadderNetworks",
    "EncDecAD", "EncoderDecoder", "LSTMNetworks", "MobileNetV2",
    "AutoEncoder", "BinaryCrossEntropy", "CrossEntropy", "DeepBeliefNetworks", "DeepBoltzmannMachines",
    "DenoisingAutoEncoder", "MaxNorm",
    "MeanAbsoluteError", "MeanSquaredError", "NeuralNetworks", "RestrictedBoltzmannMachines",
    "StackedAutoEncoder",
    "ConvolutionalDecoder", "ConvolutionalVariationalAutoEncoder", "VariationalAutoEncoder",
]
