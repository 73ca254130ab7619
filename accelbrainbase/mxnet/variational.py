"""Variational auto-encoders (MXNet Gluon). Hyper-parameters, checks, the negative ELBO and the
NumPy-facing methods: models/variational.py; here only ``hybrid_forward`` (decode the mean code),
the ELBO terms as one hybridized graph and the convolutional decoder model's layers."""
from __future__ import annotations

from mxnet import gluon, nd

from accelbrainbase.core.registry import register
from accelbrainbase.models.variational import (
    ConvolutionalDecoderBase, ConvolutionalVariationalAutoEncoderMixin, VariationalAutoEncoderBase,
    negative_elbo_terms,
)
from accelbrainbase.mxnet._glue import GluonModel
from accelbrainbase.mxnet.convolutional import ConvDecoder, ConvolutionalNeuralNetworks
from accelbrainbase.mxnet.networks import NeuralNetworks


class _SymbolOps:
    """The operations ``negative_elbo_terms`` uses, from ``F`` (mx.nd or mx.sym)."""

    def __init__(self, F):
        self.exp, self.log, self._F = F.exp, F.log, F

    def sum(self, x, axis):
        return self._F.sum(x, axis=axis)


class ELBOTerms(gluon.HybridBlock):
    """A VAE's per-sample -log p(clean | z) and KL (each (N,)) as one hybridized graph: encoder,
    split, reparameterisation with the given ``eps``, decoder and both terms. It shares the
    VAE's encoder and decoder (the same parameters); the VAE keeps it outside its own children,
    so the state names do not change. About 35 imperative operations per step become one cached
    graph."""

    def __init__(self, vae: "VariationalAutoEncoder"):
        super().__init__()
        self.encoder, self.decoder = vae.encoder, vae.decoder
        self._latent, self._reconstruction, self._std = vae.latent, vae.reconstruction, vae.observation_std

    def hybrid_forward(self, F, x, clean, eps):
        h = self.encoder(x)
        mean = F.slice_axis(h, axis=1, begin=0, end=self._latent)
        log_variance = F.slice_axis(h, axis=1, begin=self._latent, end=None)
        return negative_elbo_terms(_SymbolOps(F), mean, log_variance, eps, lambda z: F.flatten(self.decoder(z)),
                                   F.flatten(clean), self._reconstruction, self._std)


class ConvolutionalDecoder(ConvolutionalDecoderBase, GluonModel):
    __doc__ = ConvolutionalDecoderBase.__doc__
    decoder_class = ConvDecoder

    def hybrid_forward(self, F, z):
        return self.decoder(z)


@register("representation", "generation")
class VariationalAutoEncoder(VariationalAutoEncoderBase, GluonModel):
    __doc__ = VariationalAutoEncoderBase.__doc__
    network_class, cnn_class, conv_decoder_class = NeuralNetworks, ConvolutionalNeuralNetworks, ConvolutionalDecoder

    def hybrid_forward(self, F, x):
        """The decoding of the mean code (deterministic)."""
        return self.decoder(F.slice_axis(self.encoder(x), axis=1, begin=0, end=self.latent))

    def elbo_terms(self, inputs, clean, eps=None):
        """Per-sample -log p(clean | z) and KL, each (N,) (see ``negative_elbo_terms``)."""
        terms = self.__dict__.get("_elbo_terms")
        if terms is None:  # not a child block: built once, after the parameters exist
            terms = ELBOTerms(self)
            terms.hybridize()
            self.__dict__["_elbo_terms"] = terms
        if eps is None:
            eps = nd.random.normal(shape=(inputs.shape[0], self.latent), ctx=inputs.context, dtype=inputs.dtype)
        return terms(inputs, clean, eps)


@register("representation", "generation")
class ConvolutionalVariationalAutoEncoder(ConvolutionalVariationalAutoEncoderMixin, VariationalAutoEncoder):
    __doc__ = VariationalAutoEncoderBase.__doc__
