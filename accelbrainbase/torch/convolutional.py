"""Convolutional networks and auto-encoders (PyTorch). Hyper-parameters, checks, losses and
penalties: models/convolutional.py; here only layers, ``forward`` and each layer's linear part for
the contractive penalty's chain rule."""
from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from accelbrainbase.models.convolutional import (
    ContractiveMixin, ConvolutionalAutoEncoderBase, ConvolutionalNeuralNetworksBase, RepellingMixin,
    activation_derivative, check_conv_stack,
)
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import ACTIVATIONS, OPS, TorchModel
from accelbrainbase.torch.networks import AutoEncoder, TiedLinear


def _scale(t, g, n):
    """Tangents t (n*D, ...) times the activation derivative g (n, ...) of their sample."""
    if g is None:
        return t
    return (t.reshape(n, -1, *t.shape[1:]) * g.unsqueeze(1)).reshape(t.shape)


class ConvEncoder(nn.Module):
    """Convolution blocks then dense layers ``units`` (see ConvolutionalNeuralNetworksBase)."""

    def __init__(self, image_shape, channels, kernel_size, activation, batch_norm, dropout, pooling,
                 residual, units, output_activation, flat):
        super().__init__()
        stack = check_conv_stack(channels, kernel_size, activation, batch_norm, dropout, pooling, residual,
                                 image_shape)
        self.image_shape, self.kernel_size, self.activation = tuple(image_shape), kernel_size, activation
        self.batch_norm, self.dropout, self.pooling, self.residual = batch_norm, dropout, pooling, residual
        self.output_activation, self.flat = output_activation, flat
        widths = [image_shape[0]] + list(channels)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, kernel_size, padding=kernel_size // 2)
                                   for a, b in zip(widths[:-1], widths[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for b in channels) if batch_norm else None
        changing = [i for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])) if residual and a != b]
        self.shortcut_index = {i: j for j, i in enumerate(changing)}
        self.shortcuts = nn.ModuleList(nn.Conv2d(widths[i], widths[i + 1], 1, bias=False)
                                       for i in changing) if changing else None
        h, w = stack["out_hw"]
        dense = [widths[-1] * h * w] + list(units)
        self.head = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dense[:-1], dense[1:]))

    def _shortcut(self, i, x):
        return x if i not in self.shortcut_index else self.shortcuts[self.shortcut_index[i]](x)

    def penultimate(self, x):
        """The activations that feed the last dense layer: (N, C, H, W) (or flat) -> (N, width)
        (the last hidden dense layer's, or the flattened convolution features without one)."""
        if self.flat:
            x = x.reshape(-1, *self.image_shape)
        for i, conv in enumerate(self.convs):
            y = conv(x)
            if self.norms is not None:
                y = self.norms[i](y)
            if self.residual:
                y = y + self._shortcut(i, x)
            x = ACTIVATIONS[self.activation](y)
            if self.dropout:
                x = F.dropout(x, self.dropout, self.training)
            if self.pooling == "max":
                x = F.max_pool2d(x, 2)
            elif self.pooling == "avg":
                x = F.avg_pool2d(x, 2)
        x = x.flatten(1)
        for layer in self.head[:-1]:
            x = ACTIVATIONS[self.activation](layer(x))
            if self.dropout:
                x = F.dropout(x, self.dropout, self.training)
        return x

    def forward(self, x):
        return ACTIVATIONS[self.output_activation](self.head[-1](self.penultimate(x)))

    def squared_jacobian_norms(self, x):
        """||d output / d x||_F^2 per sample by forward-mode chain rule (no pooling, batch norm
        or dropout: the contractive models forbid them)."""
        n = x.shape[0]
        d = int(np.prod(self.image_shape))
        x = x.reshape(n, *self.image_shape)
        eye = torch.eye(d, dtype=x.dtype, device=x.device).reshape(d, *self.image_shape)
        t = eye.repeat(n, 1, 1, 1)  # (n*d, C, H, W): the d input directions of every sample
        pad = self.kernel_size // 2
        for i, conv in enumerate(self.convs):
            z, tz = conv(x), F.conv2d(t, conv.weight, None, padding=pad)
            if self.residual:
                z, tz = z + self._shortcut(i, x), tz + self._shortcut(i, t)
            x = ACTIVATIONS[self.activation](z)
            t = _scale(tz, activation_derivative(OPS, self.activation, z, x), n)
        x, t = x.flatten(1), t.reshape(n, d, -1)
        last = len(self.head) - 1
        for i, layer in enumerate(self.head):
            name = self.activation if i < last else self.output_activation
            z = layer(x)
            x = ACTIVATIONS[name](z)
            g = activation_derivative(OPS, name, z, x)
            t = torch.matmul(t, layer.weight.t())
            t = t if g is None else t * g.unsqueeze(1)
        return t.square().sum(dim=(1, 2))


class TiedConvTranspose2d(nn.Module):
    """A transposed convolution whose weight is ``source``'s (a Conv2d weight (out, in, k, k) read
    as (in, out, k, k): out -> in channels, the adjoint of ``source``); only the bias is its own."""

    def __init__(self, source: nn.Conv2d):
        super().__init__()
        self.__dict__["source"] = source  # not a submodule: the weight belongs to the encoder
        self.bias = nn.Parameter(torch.zeros(source.in_channels))

    def forward(self, x):
        return F.conv_transpose2d(x, self.source.weight, self.bias, padding=self.source.padding)

    def extra_repr(self) -> str:
        return f"{self.source.out_channels}, {self.source.in_channels}, tied to {self.source.extra_repr()}"


class ConvDecoder(nn.Module):
    """Dense ``code_size`` -> channels[-1] x H x W, then transposed convolutions mirroring the
    encoder down to the image's channels (the last with ``output_activation``). With ``tied_to``
    (a ConvEncoder with one dense layer) the weights are the encoder's (see TiedConvTranspose2d)."""

    def __init__(self, image_shape, channels, kernel_size, activation, batch_norm, code_size,
                 output_activation, flat, tied_to: ConvEncoder | None = None):
        super().__init__()
        self.image_shape, self.activation, self.output_activation = tuple(image_shape), activation, output_activation
        self.flat = flat
        c, h, w = image_shape
        widths = list(channels)[::-1] + [c]
        if tied_to is None:
            self.expand = nn.Linear(code_size, widths[0] * h * w)
            self.deconvs = nn.ModuleList(nn.ConvTranspose2d(a, b, kernel_size, padding=kernel_size // 2)
                                         for a, b in zip(widths[:-1], widths[1:]))
        else:
            self.expand = TiedLinear(tied_to.head[-1])
            self.deconvs = nn.ModuleList(TiedConvTranspose2d(conv) for conv in list(tied_to.convs)[::-1])
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for b in widths[1:-1]) if batch_norm and len(widths) > 2 else None

    def forward(self, code):
        _, h, w = self.image_shape
        x = ACTIVATIONS[self.activation](self.expand(code)).reshape(code.shape[0], -1, h, w)
        last = len(self.deconvs) - 1
        for i, deconv in enumerate(self.deconvs):
            x = deconv(x)
            if i < last:
                if self.norms is not None:
                    x = self.norms[i](x)
                x = ACTIVATIONS[self.activation](x)
        x = ACTIVATIONS[self.output_activation](x)
        return x.flatten(1) if self.flat else x


def dense_squared_jacobian_norms(net, x):
    """||d net(x) / d x||_F^2 per sample of a dense NeuralNetworks without batch norm/dropout:
    the closed form sum_j s'(z_j)^2 sum_i W_ji^2 for one layer, the chain rule otherwise."""
    names = list(net.hidden_activations) + [net.output_activation]
    if len(net.layers) == 1:
        layer = net.layers[0]
        z = layer(x)
        g = activation_derivative(OPS, names[0], z, ACTIVATIONS[names[0]](z))
        g = torch.ones_like(z) if g is None else g
        return torch.matmul(g.square(), layer.weight.square().sum(dim=1))
    t = None
    for layer, name in zip(net.layers, names):
        z = layer(x)
        x = ACTIVATIONS[name](z)
        g = activation_derivative(OPS, name, z, x)
        t = layer.weight.t().expand(len(z), -1, -1) if t is None else torch.matmul(t, layer.weight.t())
        t = t if g is None else t * g.unsqueeze(1)
    return t.square().sum(dim=(1, 2))


@register("classification")
class ConvolutionalNeuralNetworks(ConvolutionalNeuralNetworksBase, TorchModel):
    __doc__ = ConvolutionalNeuralNetworksBase.__doc__
    encoder_class = ConvEncoder

    def penultimate(self, x):
        """The activations that feed the output layer (see ``ConvEncoder.penultimate``)."""
        return self.encoder.penultimate(x)

    def forward(self, x):
        return self.encoder(x)


@register("representation")
class ConvolutionalAutoEncoder(ConvolutionalAutoEncoderBase, TorchModel):
    __doc__ = ConvolutionalAutoEncoderBase.__doc__
    encoder_class, decoder_class = ConvEncoder, ConvDecoder

    def forward(self, x):
        return self.decoder(self.encoder(x))


@register("representation")
class ContractiveConvolutionalAutoEncoder(ContractiveMixin, ConvolutionalAutoEncoder):
    __doc__ = ContractiveMixin.__doc__


@register("representation")
class RepellingConvolutionalAutoEncoder(RepellingMixin, ConvolutionalAutoEncoder):
    __doc__ = RepellingMixin.__doc__


@register("representation")
class ContractiveAutoEncoder(ContractiveMixin, AutoEncoder):
    __doc__ = ContractiveMixin.__doc__

    def jacobian_norms(self, x):
        return dense_squared_jacobian_norms(self.encoder, x)

