"""PyTorch backend: every model is a plain ``torch.nn.Module``.

Exports the same public names as :mod:`accelbrainbase.mxnet`.
"""
from accelbrainbase.core.backends import require_framework

require_framework("torch")

from accelbrainbase.torch.adversarial import (  # noqa: E402
    AAEController, ConditionalGANController, DiscriminativeModel, DiscriminatorLoss, EBAAEController,
    EBDiscriminativeModel, EBDiscriminatorLoss, EBGANController, EBGeneratorLoss, FeatureMatchingLoss,
    GANController, GenerativeModel, GeneratorLoss,
)
from accelbrainbase.torch.boltzmann import (  # noqa: E402
    DeepBeliefNetworks, DeepBoltzmannMachines, RestrictedBoltzmannMachines,
)
from accelbrainbase.torch.mobilenet import MobileNetV2  # noqa: E402
from accelbrainbase.torch.convolutional import (  # noqa: E402
    ContractiveAutoEncoder, ContractiveConvolutionalAutoEncoder, ConvolutionalAutoEncoder,
    ConvolutionalNeuralNetworks, RepellingConvolutionalAutoEncoder,
)
from accelbrainbase.torch.ladder import ConvolutionalLadderNetworks, LadderNetworks  # noqa: E402
from accelbrainbase.torch.losses import (  # noqa: E402
    BinaryCrossEntropy, CrossEntropy, MeanAbsoluteError, MeanSquaredError,
)
from accelbrainbase.torch.networks import (  # noqa: E402
    AutoEncoder, DenoisingAutoEncoder, NeuralNetworks, StackedAutoEncoder,
)
from accelbrainbase.torch.regularizers import MaxNorm  # noqa: E402
from accelbrainbase.torch.recurrent import EncDecAD, EncoderDecoder, LSTMNetworks  # noqa: E402
from accelbrainbase.torch.variational import (  # noqa: E402
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
