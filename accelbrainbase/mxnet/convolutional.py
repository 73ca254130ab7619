"""Convolutional networks and auto-encoders (MXNet Gluon). Hyper-parameters, checks, losses and
penalties: models/convolutional.py; here only layers, ``hybrid_forward`` and each layer's linear
part for the contractive penalty's chain rule (imperative, first-order gradients only)."""
from __future__ import annotations


import numpy as np
from mxnet import gluon, nd

from accelbrainbase.models.convolutional import (
    ContractiveMixin, ConvolutionalAutoEncoderBase, ConvolutionalNeuralNetworksBase, RepellingMixin,
    activation_derivative, check_conv_stack,
)
from accelbrainbase.core.registry import register
from accelbrainbase.mxnet._glue import OPS, GluonModel, activate
from accelbrainbase.mxnet.networks import AutoEncoder, TiedDense


def _sequential(blocks):
    container = gluon.nn.HybridSequential()
    for block in blocks:
        container.add(block)
    return container


def _scale(t, g, n):
    """Tangents t (n*D, ...) times the activation derivative g (n, ...) of their sample."""
    if g is None:
        return t
    return (t.reshape((n, -1) + t.shape[1:]) * g.expand_dims(1)).reshape(t.shape)


class ConvEncoder(gluon.HybridBlock):
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
        pad = kernel_size // 2
        self.convs = _sequential(gluon.nn.Conv2D(b, kernel_size, padding=pad, in_channels=a)
                                 for a, b in zip(widths[:-1], widths[1:]))
        self.norms = _sequential(gluon.nn.BatchNorm(in_channels=b) for b in channels) if batch_norm else None
        changing = [i for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])) if residual and a != b]
        self.shortcut_index = {i: j for j, i in enumerate(changing)}
        self.shortcuts = _sequential(gluon.nn.Conv2D(widths[i + 1], 1, use_bias=False, in_channels=widths[i])
                                     for i in changing) if changing else None
        h, w = stack["out_hw"]
        dense = [widths[-1] * h * w] + list(units)
        self.head = _sequential(gluon.nn.Dense(b, in_units=a) for a, b in zip(dense[:-1], dense[1:]))

    def _shortcut(self, i, x):
        return x if i not in self.shortcut_index else self.shortcuts[self.shortcut_index[i]](x)

    def _trunk(self, F, x):
        """Convolution blocks, flatten, the hidden dense layers; written with ``F``."""
        if self.flat:
            x = F.reshape(x, shape=(-1,) + self.image_shape)
        for i in range(len(self.convs)):
            y = self.convs[i](x)
            if self.norms is not None:
                y = self.norms[i](y)
            if self.residual:
                y = y + self._shortcut(i, x)
            x = activate(F, self.activation, y)
            if self.dropout:
                x = F.Dropout(x, p=self.dropout)
            if self.pooling is not None:
                x = F.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type=self.pooling)
        x = F.flatten(x)
        for i in range(len(self.head) - 1):
            x = activate(F, self.activation, self.head[i](x))
            if self.dropout:
                x = F.Dropout(x, p=self.dropout)
        return x

    def penultimate(self, x: nd.NDArray) -> nd.NDArray:
        """The activations that feed the last dense layer: (N, C, H, W) (or flat) -> (N, width)
        (the last hidden dense layer's, or the flattened convolution features without one).
        Imperative on NDArrays (also inside ``autograd.record``), the block may be hybridized."""
        return self._trunk(nd, x)

    def hybrid_forward(self, F, x):
        return activate(F, self.output_activation, self.head[len(self.head) - 1](self._trunk(F, x)))

    def squared_jacobian_norms(self, x):
        """||d output / d x||_F^2 per sample by forward-mode chain rule (no pooling, batch norm
        or dropout: the contractive models forbid them)."""
        n = x.shape[0]
        d = int(np.prod(self.image_shape))
        x = x.reshape((n,) + self.image_shape)
        eye = nd.eye(d, ctx=x.context, dtype=x.dtype).reshape((d,) + self.image_shape)
        t = nd.tile(eye, reps=(n, 1, 1, 1))  # (n*d, C, H, W): the d input directions of every sample
        k, pad = self.kernel_size, self.kernel_size // 2
        for i in range(len(self.convs)):
            conv = self.convs[i]
            z = conv(x)
            tz = nd.Convolution(t, conv.weight.data(), kernel=(k, k), pad=(pad, pad),
                                num_filter=conv.weight.shape[0], no_bias=True)
            if self.residual:
                z, tz = z + self._shortcut(i, x), tz + self._shortcut(i, t)
            x = activate(nd, self.activation, z)
            t = _scale(tz, activation_derivative(OPS, self.activation, z, x), n)
        x, t = nd.flatten(x), t.reshape((n, d, -1))
        last = len(self.head) - 1
        for i in range(last + 1):
            layer = self.head[i]
            name = self.activation if i < last else self.output_activation
            z = layer(x)
            x = activate(nd, name, z)
            g = activation_derivative(OPS, name, z, x)
            t = nd.dot(t, layer.weight.data(), transpose_b=True)
            t = t if g is None else t * g.expand_dims(1)
        return nd.sum(nd.square(t), axis=(1, 2))


class SameDeconvolution(gluon.HybridBlock):
    """A stride-1 transposed convolution with same padding (odd k): weight (in, out, k, k) as
    ``Conv2DTranspose``'s, computed as the equivalent convolution with the kernel's spatial flip
    and its two channel axes swapped.

    MXNet 1.9.1's oneDNN ``Deconvolution`` fails on some CPUs: with one output channel on AVX2
    machines ("could not create a primitive descriptor for a reorder primitive"), and in
    backward when its weight also feeds a ``Convolution``, as a tied weight does ("could not
    execute a primitive"). The convolution has neither problem and the same canonical state.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self._conv_args = dict(kernel=(kernel_size, kernel_size), pad=(kernel_size // 2,) * 2,
                               num_filter=out_channels, no_bias=False)
        self.weight = self.params.get("weight", shape=(in_channels, out_channels, kernel_size, kernel_size))
        self.bias = self.params.get("bias", shape=(out_channels,), init="zeros")

    def hybrid_forward(self, F, x, weight, bias):
        kernel = F.flip(F.swapaxes(weight, dim1=0, dim2=1), axis=(2, 3))
        return F.Convolution(x, kernel, bias, **self._conv_args)


class TiedDeconvolution(SameDeconvolution):
    """A :class:`SameDeconvolution` whose weight is ``source``'s (a Conv2D weight (out, in, k, k)
    read as (in, out, k, k): out -> in channels, the adjoint of ``source``); only the bias is its
    own."""

    def __init__(self, source: gluon.nn.Conv2D, kernel_size: int):
        gluon.HybridBlock.__init__(self)
        in_channels = source.weight.shape[1]
        self._conv_args = dict(kernel=(kernel_size, kernel_size), pad=(kernel_size // 2,) * 2,
                               num_filter=in_channels, no_bias=False)
        self.weight = source.weight  # shared with the encoder
        self.params.update({source.weight.name: source.weight})  # so hybridize() finds it
        self.bias = self.params.get("bias", shape=(in_channels,), init="zeros")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tied to {self.weight.name} {self.weight.shape})"


class ConvDecoder(gluon.HybridBlock):
    """Dense ``code_size`` -> channels[-1] x H x W, then transposed convolutions mirroring the
    encoder down to the image's channels (the last with ``output_activation``). With ``tied_to``
    (a ConvEncoder with one dense layer) the weights are the encoder's (see TiedDeconvolution).
    The transposed convolutions are :class:`SameDeconvolution` (oneDNN workaround)."""

    def __init__(self, image_shape, channels, kernel_size, activation, batch_norm, code_size,
                 output_activation, flat, tied_to: ConvEncoder | None = None):
        super().__init__()
        self.image_shape, self.activation, self.output_activation = tuple(image_shape), activation, output_activation
        self.flat = flat
        c, h, w = image_shape
        widths = list(channels)[::-1] + [c]
        if tied_to is None:
            self.expand = gluon.nn.Dense(widths[0] * h * w, in_units=code_size)
            self.deconvs = _sequential(SameDeconvolution(a, b, kernel_size)
                                       for a, b in zip(widths[:-1], widths[1:]))
        else:
            self.expand = TiedDense(tied_to.head[len(tied_to.head) - 1])
            self.deconvs = _sequential(TiedDeconvolution(tied_to.convs[i], kernel_size)
                                       for i in reversed(range(len(tied_to.convs))))
        self.norms = (_sequential(gluon.nn.BatchNorm(in_channels=b) for b in widths[1:-1])
                      if batch_norm and len(widths) > 2 else None)

    def hybrid_forward(self, F, code):
        _, h, w = self.image_shape
        x = F.reshape(activate(F, self.activation, self.expand(code)), shape=(0, -1, h, w))
        last = len(self.deconvs) - 1
        for i in range(last + 1):
            x = self.deconvs[i](x)
            if i < last:
                if self.norms is not None:
                    x = self.norms[i](x)
                x = activate(F, self.activation, x)
        x = activate(F, self.output_activation, x)
        return F.flatten(x) if self.flat else x


def dense_squared_jacobian_norms(net, x):
    """||d net(x) / d x||_F^2 per sample of a dense NeuralNetworks without batch norm/dropout:
    the closed form sum_j s'(z_j)^2 sum_i W_ji^2 for one layer, the chain rule otherwise."""
    names = list(net.hidden_activations) + [net.output_activation]
    if len(net.layers) == 1:
        layer = net.layers[0]
        z = layer(x)
        g = activation_derivative(OPS, names[0], z, activate(nd, names[0], z))
        g = nd.ones_like(z) if g is None else g
        return nd.dot(nd.square(g), nd.sum(nd.square(layer.weight.data()), axis=1))
    t = None
    for i, name in enumerate(names):
        layer = net.layers[i]
        z = layer(x)
        x = activate(nd, name, z)
        g = activation_derivative(OPS, name, z, x)
        weight = layer.weight.data()
        t = (nd.broadcast_to(nd.transpose(weight).expand_dims(0), shape=(len(z),) + weight.shape[::-1])
             if t is None else nd.dot(t, weight, transpose_b=True))
        t = t if g is None else t * g.expand_dims(1)
    return nd.sum(nd.square(t), axis=(1, 2))


@register("classification")
class ConvolutionalNeuralNetworks(ConvolutionalNeuralNetworksBase, GluonModel):
    __doc__ = ConvolutionalNeuralNetworksBase.__doc__
    encoder_class = ConvEncoder

    def penultimate(self, x: nd.NDArray) -> nd.NDArray:
        """The activations that feed the output layer (see ``ConvEncoder.penultimate``)."""
        return self.encoder.penultimate(x)

    def hybrid_forward(self, F, x):
        return self.encoder(x)


@register("representation")
class ConvolutionalAutoEncoder(ConvolutionalAutoEncoderBase, GluonModel):
    __doc__ = ConvolutionalAutoEncoderBase.__doc__
    encoder_class, decoder_class = ConvEncoder, ConvDecoder

    def hybrid_forward(self, F, x):
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
