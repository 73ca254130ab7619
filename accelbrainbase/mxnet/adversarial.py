"""Generative adversarial family (MXNet Gluon): the parts' ``hybrid_forward`` and the losses'
NDArray ops. Step orders, checks and losses are written once in models/adversarial.py."""
from __future__ import annotations

from accelbrainbase.core.registry import register
from accelbrainbase.models.adversarial import (
    AAEControllerBase, ConditionalGANMixin, DiscriminativeModelBase, DiscriminatorLossBase,
    EBAAEControllerBase, EBDiscriminativeModelBase, EBDiscriminatorLossBase, EBGANControllerBase,
    EBGeneratorLossBase, FeatureMatchingLossBase, GANControllerBase, GenerativeModelBase, GeneratorLossBase,
)
from accelbrainbase.mxnet._glue import OPS, GluonModel
from accelbrainbase.mxnet.networks import AutoEncoder, NeuralNetworks


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


class GenerativeModel(GenerativeModelBase, GluonModel):
    __doc__ = GenerativeModelBase.__doc__

    def hybrid_forward(self, F, z):
        return self.network(z)


class DiscriminativeModel(DiscriminativeModelBase, GluonModel):
    __doc__ = DiscriminativeModelBase.__doc__

    def hybrid_forward(self, F, x, condition=None):
        if condition is not None:
            x = F.concat(x, condition, dim=1)
        return F.reshape(self.network(x), shape=(-1,))


class EBDiscriminativeModel(EBDiscriminativeModelBase, GluonModel):
    __doc__ = EBDiscriminativeModelBase.__doc__

    def hybrid_forward(self, F, x):
        error = F.square(self.auto_encoder.decoder(self.auto_encoder.encoder(x)) - x)
        return F.mean(F.reshape(error, shape=(0, -1)), axis=1)


class _Losses:
    generator_loss_class, discriminator_loss_class = GeneratorLoss, DiscriminatorLoss
    eb_generator_loss_class, eb_discriminator_loss_class = EBGeneratorLoss, EBDiscriminatorLoss
    feature_matching_loss_class = FeatureMatchingLoss
    network_class, auto_encoder_class = NeuralNetworks, AutoEncoder
    generative_class, discriminative_class = GenerativeModel, DiscriminativeModel
    eb_discriminative_class = EBDiscriminativeModel


@register("generation")
class GANController(_Losses, GANControllerBase, GluonModel):
    __doc__ = GANControllerBase.__doc__

    def hybrid_forward(self, F, z):
        return self.generator(z)


@register("generation")
class ConditionalGANController(ConditionalGANMixin, GANController):
    __doc__ = ConditionalGANMixin.__doc__


@register("generation")
class EBGANController(_Losses, EBGANControllerBase, GluonModel):
    __doc__ = EBGANControllerBase.__doc__

    def hybrid_forward(self, F, z):
        return self.generator(z)


@register("generation")
class AAEController(_Losses, AAEControllerBase, GluonModel):
    __doc__ = AAEControllerBase.__doc__

    def hybrid_forward(self, F, x):
        return self.auto_encoder(x)


@register("generation")
class EBAAEController(_Losses, EBAAEControllerBase, GluonModel):
    __doc__ = EBAAEControllerBase.__doc__

    def hybrid_forward(self, F, x):
        return self.auto_encoder(x)
