"""Generative adversarial family (PyTorch): the parts' ``forward`` and the losses' tensor ops.
Step orders, checks and losses are written once in models/adversarial.py."""
from __future__ import annotations

from accelbrainbase.core.registry import register
from accelbrainbase.models.adversarial import (
    AAEControllerBase, ConditionalGANMixin, DiscriminativeModelBase, DiscriminatorLossBase,
    EBAAEControllerBase, EBDiscriminativeModelBase, EBDiscriminatorLossBase, EBGANControllerBase,
    EBGeneratorLossBase, FeatureMatchingLossBase, GANControllerBase, GenerativeModelBase, GeneratorLossBase,
)
from accelbrainbase.torch._glue import OPS, TorchModel
from accelbrainbase.torch.networks import AutoEncoder, NeuralNetworks


class GeneratorLoss(GeneratorLossBase):
    __doc__ = GeneratorLossBase.__doc__
    ops = OPS


class DiscriminatorLoss(DiscriminatorLossBase):
    __doc__ = DiscriminatorLossBase.__doc__
    ops = OPS


class EBDiscriminatorLoss(EBDiscriminatorLossBase):
    __doc__ = EBDiscriminatorLossBase.__doc__
    ops = OPS


class EBGeneratorLoss(EBGeneratorLossBase):
    __doc__ = EBGeneratorLossBase.__doc__
    ops = OPS


class FeatureMatchingLoss(FeatureMatchingLossBase):
    __doc__ = FeatureMatchingLossBase.__doc__
    ops = OPS


class GenerativeModel(GenerativeModelBase, TorchModel):
    __doc__ = GenerativeModelBase.__doc__

    def forward(self, z):
        return self.network(z)


class DiscriminativeModel(DiscriminativeModelBase, TorchModel):
    __doc__ = DiscriminativeModelBase.__doc__

    def forward(self, x, condition=None):
        return self.network(self._joined(x, condition)).reshape(-1)


class EBDiscriminativeModel(EBDiscriminativeModelBase, TorchModel):
    __doc__ = EBDiscriminativeModelBase.__doc__

    def forward(self, x):
        return self.energy_and_codes(x)[0]


class _Losses:
    generator_loss_class, discriminator_loss_class = GeneratorLoss, DiscriminatorLoss
    eb_generator_loss_class, eb_discriminator_loss_class = EBGeneratorLoss, EBDiscriminatorLoss
    feature_matching_loss_class = FeatureMatchingLoss
    network_class, auto_encoder_class = NeuralNetworks, AutoEncoder
    generative_class, discriminative_class = GenerativeModel, DiscriminativeModel
    eb_discriminative_class = EBDiscriminativeModel


@register("generation")
class GANController(_Losses, GANControllerBase, TorchModel):
    __doc__ = GANControllerBase.__doc__

    def forward(self, z):
        return self.generator(z)


@register("generation")
class ConditionalGANController(ConditionalGANMixin, GANController):
    __doc__ = ConditionalGANMixin.__doc__


@register("generation")
class EBGANController(_Losses, EBGANControllerBase, TorchModel):
    __doc__ = EBGANControllerBase.__doc__

    def forward(self, z):
        return self.generator(z)


@register("generation")
class AAEController(_Losses, AAEControllerBase, TorchModel):
    __doc__ = AAEControllerBase.__doc__

    def forward(self, x):
        return self.auto_encoder(x)


@register("generation")
class EBAAEController(_Losses, EBAAEControllerBase, TorchModel):
    __doc__ = EBAAEControllerBase.__doc__

    def forward(self, x):
        return self.auto_encoder(x)
