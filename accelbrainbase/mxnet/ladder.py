"""Ladder networks (MXNet Gluon). Hyper-parameters, checks, the cost and the label convention:
models/ladder.py; here the layers and the passes of Algorithm 1 written with ``F``: the inference
``hybrid_forward`` (clean pass, running statistics) runs as a hybridized graph; ``ladder_terms``
(clean pass, corrupted pass, decoder) runs the same functions as a second hybridized graph
(``_LadderGraph``) under autograd. Per-channel scales and shifts of feature maps are depthwise 1x1
convolutions (``_affine``). Parameters of the holder blocks (norms, combinators) are read with ``_value``: their
symbol in a hybridized trace, their array otherwise (the model's parameter dict holds them, so
the cached graph binds them like its own)."""
from __future__ import annotations

import math
import warnings
from typing import List, Optional, Sequence

import mxnet as mx
from mxnet import autograd, gluon, nd

from accelbrainbase.models.ladder import (
    COMBINATOR_INIT, ConvolutionalLadderNetworksBase, LadderNetworksBase, LadderTerms,
)
from accelbrainbase.core.registry import register
from accelbrainbase.mxnet._glue import GluonModel, activate


def _value(F, param, like):
    """A parameter as a symbol (hybridized trace) or as an array on ``like``'s context."""
    return param.var() if F is mx.sym else param.data(like.context)


def _quiet_build(build, *args):
    """Build a cached graph without Gluon's warning about parameters it leaves out on purpose
    (inference skips the decoder; training reads batch, not running, statistics)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Parameter .* is not used by any computation")
        return build(*args)


def _sequential(blocks):
    container = gluon.nn.HybridSequential()
    for block in blocks:
        container.add(block)
    return container


class LadderNorm(gluon.HybridBlock):
    """Batch norm of one encoder layer without a learned scale: beta, gamma (top layer only) and
    the running mean / variance used by inference (canonical names bias, weight, running_*)."""

    def __init__(self, width: int, scale: bool):
        super().__init__()
        self.beta = self.params.get("beta", shape=(width,), init="zeros")
        self.gamma = self.params.get("gamma", shape=(width,), init="ones") if scale else None
        self.running_mean = self.params.get("running_mean", shape=(width,), init="zeros", grad_req="null")
        self.running_var = self.params.get("running_var", shape=(width,), init="ones", grad_req="null")


class VanillaCombinator(gluon.HybridBlock):
    """g(z~, u) of Rasmus et al. 2015: mu = a1 sigmoid(a2 u + a3) + a4 u + a5,
    v = a6 sigmoid(a7 u + a8) + a9 u + a10, z^ = (z~ - mu) v + mu; one a1..a10 per unit
    (per channel on feature maps)."""

    def __init__(self, width: int):
        super().__init__()
        for i, value in enumerate(COMBINATOR_INIT, start=1):
            setattr(self, f"a{i}", self.params.get(f"a{i}", shape=(width,), init=mx.init.Constant(value)))

    def combine(self, F, z, u, ndim: int):
        """g(z, u) for ``z`` of ``ndim`` dimensions (2 dense, 4 feature maps)."""
        return combine(F, z, u, [_value(F, getattr(self, f"a{i}"), z) for i in range(1, 11)], ndim,
                       self.a1.shape[0])


def _shaped(F, p, ndim: int):
    """A per-unit / per-channel vector as (1, C) or (1, C, 1, 1) for broadcasting."""
    return F.reshape(p, shape=(1, -1) + (1,) * (ndim - 2))


def _affine(F, x, scale, shift, ndim: int, channels: int):
    """scale * x + shift per unit (ndim 2) or per channel (ndim 4); ``scale`` and ``shift`` hold
    ``channels`` values in any shape. Feature maps use a depthwise 1x1 convolution: the same
    map, but MXNet 1.9.1's backward of a (1, C, 1, 1) broadcast (a reduction over N, H, W) is
    about ten times slower than the convolution's."""
    if ndim == 2:
        return F.broadcast_add(F.broadcast_mul(x, _shaped(F, scale, 2)), _shaped(F, shift, 2))
    weight = F.reshape(scale, shape=(channels, 1, 1, 1))
    return F.Convolution(x, weight, F.reshape(shift, shape=(channels,)), kernel=(1, 1), num_filter=channels,
                         num_group=channels)


def _normalise(F, x, mean, var, eps: float, ndim: int, channels: int):
    """(x - mean) / sqrt(var + eps) per unit / channel."""
    scale = 1.0 / F.sqrt(var + eps)
    return _affine(F, x, scale, -mean * scale, ndim, channels)


def combine(F, z, u, a: List, ndim: int, channels: int):
    def lin(x, i, j):  # a_i * x + a_j
        return _affine(F, x, a[i], a[j], ndim, channels)

    zero = F.zeros_like(a[0])
    mu = _affine(F, F.sigmoid(lin(u, 1, 2)), a[0], zero, ndim, channels) + lin(u, 3, 4)
    v = _affine(F, F.sigmoid(lin(u, 6, 7)), a[5], zero, ndim, channels) + lin(u, 8, 9)
    return (z - mu) * v + mu


def _transposed_convolution(F, z, weight, k: int, output_padding, channels: int):
    """The stride-2 transposed convolution (padding k // 2) of ``z`` with ``weight`` (in, out, k, k),
    written as a convolution of ``z`` with zeros inserted after every row and column (the last
    zero row / column kept where ``output_padding`` is 1) and the flipped, transposed kernel.
    Same result as ``Conv2DTranspose``, whose MKLDNN backward in MXNet 1.9.1 leaves unreadable
    weight gradients upstream when it has one output channel ("could not create a primitive
    descriptor for a reorder primitive")."""
    e = F.expand_dims(F.expand_dims(z, 3), 5)          # (N, C, h, 1, w, 1)
    e = F.concat(e, F.zeros_like(e), dim=5)
    e = F.concat(e, F.zeros_like(e), dim=3)            # (N, C, h, 2, w, 2)
    up = F.reshape(e, shape=(0, 0, -3, -3))            # (N, C, 2h, 2w)
    if not output_padding[0]:
        up = F.slice_axis(up, axis=2, begin=0, end=-1)
    if not output_padding[1]:
        up = F.slice_axis(up, axis=3, begin=0, end=-1)
    kernel = F.flip(F.flip(F.swapaxes(weight, 0, 1), axis=2), axis=3)
    pad = k - 1 - k // 2
    return F.Convolution(up, kernel, kernel=(k, k), pad=(pad, pad), num_filter=channels, no_bias=True)


def _moments(F, z, ndim: int, channels: int):
    """Batch mean and (biased) variance per unit / channel, kept as (1, C[, 1, 1])."""
    axes = (0,) if ndim == 2 else (0, 2, 3)
    mean = F.mean(z, axis=axes, keepdims=True)
    centred = _affine(F, z, F.ones_like(mean), -mean, ndim, channels)
    return mean, F.mean(F.square(centred), axis=axes, keepdims=True)


class LadderModel(GluonModel):
    """The passes of Algorithm 1 for both ladder networks (the layers come from ``layer_specs``)."""

    def build_ladder(self) -> None:
        specs, k = self.layer_specs, getattr(self, "kernel_size", 1)
        layers, vs = [], []
        for spec in specs:
            if spec.kind == "conv":
                c_in, c_out = spec.in_shape[0], spec.out_shape[0]
                layers.append(gluon.nn.Conv2D(c_out, k, strides=2, padding=k // 2, in_channels=c_in, use_bias=False))
                # holds V's weight (c_out, c_in, k, k); applied by _transposed_convolution
                vs.append(gluon.nn.Conv2DTranspose(c_in, k, strides=2, padding=k // 2,
                                                   output_padding=tuple(spec.output_padding), in_channels=c_out,
                                                   use_bias=False))
            else:
                n_in, n_out = math.prod(spec.in_shape), spec.out_shape[0]
                layers.append(gluon.nn.Dense(n_out, in_units=n_in, use_bias=False))
                vs.append(gluon.nn.Dense(n_in, in_units=n_out, use_bias=False))
        last = len(specs) - 1
        self.encoder = gluon.HybridBlock()
        self.encoder.layers = _sequential(layers)
        self.encoder.norms = _sequential(LadderNorm(s.out_shape[0], i == last) for i, s in enumerate(specs))
        self.decoder = gluon.HybridBlock()
        self.decoder.layers = _sequential(vs)
        self.decoder.combinators = _sequential(VanillaCombinator(shape[0]) for shape in self.layer_shapes)

    # -- the passes ----------------------------------------------------------------------------
    def _encode(self, F, x, batch_statistics: bool, noise: Optional[List] = None):
        """One encoder pass -> (logits, h(L), [z(0)..z(L)], [(mu, sigma^2) of layers 1..L]).
        ``noise``: standard-normal draws per z(l), scaled by ``noise_std`` (None: clean pass)."""
        shapes = self.layer_shapes
        z = F.reshape(x, shape=(-1,) + shapes[0]) if len(shapes[0]) > 1 else x
        if noise is not None:
            z = z + self.noise_std * noise[0]
        h = z
        zs, moments = [z], []
        last = self.n_layers - 1
        for i in range(self.n_layers):
            ndim = 1 + len(shapes[i + 1])
            norm = self.encoder.norms[i]
            pre = self.encoder.layers[i](h)  # Dense flattens feature maps itself
            width = shapes[i + 1][0]
            if batch_statistics:
                mean, var = _moments(F, pre, ndim, width)
            else:
                mean = _shaped(F, _value(F, norm.running_mean, x), ndim)
                var = _shaped(F, _value(F, norm.running_var, x), ndim)
            z = _normalise(F, pre, mean, var, self.eps, ndim, width)
            if noise is not None:
                z = z + self.noise_std * noise[i + 1]
            zs.append(z)
            moments.append((mean, var))
            beta = _value(F, norm.beta, x)
            shifted = _affine(F, z, F.ones_like(beta), beta, ndim, width)
            if i < last:
                h = activate(F, self.activation, shifted)
            else:
                logits = F.broadcast_mul(shifted, _shaped(F, _value(F, norm.gamma, x), 2))
                h = F.softmax(logits, axis=-1)
        return logits, h, zs, moments

    def _batchnorm(self, F, u, ndim: int, channels: int):
        mean, var = _moments(F, u, ndim, channels)
        return _normalise(F, u, mean, var, self.eps, ndim, channels)

    def _decode(self, F, h_top, corrupted: List, clean: List, moments: List) -> List:
        """Decoder from the top; returns mean((z(l) - z^_BN(l))^2) for l = 0..L."""
        shapes = self.layer_shapes
        costs = [None] * (self.n_layers + 1)
        z_hat = None
        for l in range(self.n_layers, -1, -1):
            ndim = 1 + len(shapes[l])
            if l == self.n_layers:
                u = h_top
            else:
                spec, layer = self.layer_specs[l], self.decoder.layers[l]
                if spec.kind == "conv":
                    u = _transposed_convolution(F, z_hat, _value(F, layer.weight, z_hat), self.kernel_size,
                                                spec.output_padding, spec.in_shape[0])
                else:
                    u = F.reshape(layer(z_hat), shape=(-1,) + shapes[l])
            z_hat = self.decoder.combinators[l].combine(F, corrupted[l], self._batchnorm(F, u, ndim, shapes[l][0]),
                                                        ndim)
            if l == 0:
                z_bn = z_hat
            else:
                mean, var = moments[l - 1]
                z_bn = _normalise(F, z_hat, mean, var, self.eps, ndim, shapes[l][0])
            costs[l] = F.mean(F.square(clean[l] - z_bn))
        return costs

    def ladder_terms(self, x, noise: Optional[Sequence] = None, update_statistics: bool = True) -> LadderTerms:
        """Clean pass, corrupted pass and decoder on the batch ``x`` (batch statistics) in one
        hybridized graph; with ``update_statistics`` the running statistics move towards the
        clean pass's."""
        n, shapes, depth = x.shape[0], self.layer_shapes, self.n_layers
        if noise is None:
            draws = [nd.random.normal(shape=(n,) + s, ctx=x.context, dtype=x.dtype) for s in shapes]
        else:
            draws = [self._tensor(a).reshape((n,) + s) for a, s in zip(noise, shapes)]
        if "_graph" not in self.__dict__:
            self.__dict__["_graph"] = _LadderGraph(self)
        out = self.__dict__["_graph"](x, *draws)
        costs, means, variances = out[2:3 + depth], out[3 + depth:3 + 2 * depth], out[3 + 2 * depth:]
        if update_statistics:
            m = self.momentum
            with autograd.pause():
                for mean, var, norm, shape in zip(means, variances, self.encoder.norms, shapes[1:]):
                    count = n * math.prod(shape[1:])  # values per unit / channel
                    norm.running_mean.set_data((1 - m) * norm.running_mean.data() + m * mean.detach().reshape((-1,)))
                    norm.running_var.set_data((1 - m) * norm.running_var.data()
                                              + m * (count / max(count - 1, 1)) * var.detach().reshape((-1,)))
        return LadderTerms(out[0], out[1], list(costs))

    def _build_cache(self, *args):
        return _quiet_build(super()._build_cache, *args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def hybrid_forward(self, F, x):
        """Clean encoder with the running statistics: logits (N, classes)."""
        return self._encode(F, x, batch_statistics=False)[0]

    # -- helpers of the core cost -------------------------------------------------------------
    @staticmethod
    def label_mask(targets):
        return targets >= 0

    @staticmethod
    def log_likelihoods(logits, targets):
        """log softmax(logits)[n, t_n] per sample (class 0 read for unlabelled samples)."""
        return nd.pick(nd.log_softmax(logits, axis=1), nd.maximum(targets, 0), axis=1)

    @staticmethod
    def hits(logits, targets):
        return nd.argmax(logits, axis=1) == targets

    @staticmethod
    def scalar(value) -> float:
        return float(value.asscalar())


class _LadderGraph(gluon.HybridBlock):
    """The training pass of a ladder model as one hybridized graph: inputs x and the standard
    normal noise of z(0)..z(L); outputs clean logits, corrupted logits, the L+1 costs, the L batch
    means and the L batch variances. Not a child of the model (its state names stay the
    model's); its parameter dict shares the model's parameters, so the cached graph binds them."""

    def __init__(self, model: "LadderModel"):
        super().__init__()
        self.__dict__["model"] = model  # a plain reference: registering it would make it a child
        self.params.update(model.collect_params())
        self.hybridize()

    def _build_cache(self, *args):
        return _quiet_build(super()._build_cache, *args)

    def hybrid_forward(self, F, x, *noise):
        model = self.model
        clean_logits, _, clean, moments = model._encode(F, x, batch_statistics=True)
        logits, h_top, corrupted, _ = model._encode(F, x, batch_statistics=True, noise=list(noise))
        costs = model._decode(F, h_top, corrupted, clean, moments)
        return (clean_logits, logits, *costs, *[mean for mean, _ in moments], *[var for _, var in moments])


@register("classification")
class LadderNetworks(LadderNetworksBase, LadderModel):
    __doc__ = LadderNetworksBase.__doc__


@register("classification")
class ConvolutionalLadderNetworks(ConvolutionalLadderNetworksBase, LadderModel):
    __doc__ = ConvolutionalLadderNetworksBase.__doc__
