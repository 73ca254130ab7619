"""Variational auto-encoders (PyTorch). Hyper-parameters, checks, the negative ELBO and the
NumPy-facing methods: models/variational.py; here only ``forward`` (decode the mean code), the
split of the encoder's output for the ELBO terms and the convolutional decoder model's layers."""
from __future__ import annotations

import torch

from accelbrainbase.core.registry import register
from accelbrainbase.models.variational import (
    ConvolutionalDecoderBase, ConvolutionalVariationalAutoEncoderMixin, VariationalAutoEncoderBase,
    negative_elbo_terms,
)
from accelbrainbase.torch._glue import OPS, TorchModel
from accelbrainbase.torch.convolutional import ConvDecoder, ConvolutionalNeuralNetworks
from accelbrainbase.torch.networks import NeuralNetworks


class ConvolutionalDecoder(ConvolutionalDecoderBase, TorchModel):
    __doc__ = ConvolutionalDecoderBase.__doc__
    decoder_class = ConvDecoder

    def forward(self, z):
        return self.decoder(z)


@register("representation", "generation")
class VariationalAutoEncoder(VariationalAutoEncoderBase, TorchModel):
    __doc__ = VariationalAutoEncoderBase.__doc__
    network_class, cnn_class, conv_decoder_class = NeuralNetworks, ConvolutionalNeuralNetworks, ConvolutionalDecoder

    def forward(self, x):
        """The decoding of the mean code (deterministic)."""
        return self.decoder(self.encoder(x)[:, :self.latent])

    def elbo_terms(self, inputs, clean, eps=None):
        """Per-sample -log p(clean | z) and KL, each (N,) (see ``negative_elbo_terms``)."""
        h = self.encoder(inputs)
        mean, log_variance = h[:, :self.latent], h[:, self.latent:]
        eps = torch.randn_like(mean) if eps is None else eps
        return negative_elbo_terms(OPS, mean, log_variance, eps, lambda z: self.decoder(z).flatten(1),
                                   clean.flatten(1), self.reconstruction, self.observation_std)


@register("representation", "generation")
class ConvolutionalVariationalAutoEncoder(ConvolutionalVariationalAutoEncoderMixin, VariationalAutoEncoder):
    __doc__ = VariationalAutoEncoderBase.__doc__
