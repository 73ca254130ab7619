"""Ladder networks (PyTorch). Hyper-parameters, checks, the cost and the label convention:
models/ladder.py; here the layers, the clean / corrupted encoder passes and the decoder
(``ladder_terms``) and the inference ``forward`` (clean pass, running statistics)."""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

import torch
from torch import nn

from accelbrainbase.models.ladder import (
    COMBINATOR_INIT, ConvolutionalLadderNetworksBase, LadderNetworksBase, LadderTerms,
)
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import ACTIVATIONS, TorchModel


class LadderNorm(nn.Module):
    """Batch norm of one encoder layer without a learned scale: beta (``bias``), gamma
    (``weight``, top layer only) and the running mean / variance used by inference."""

    def __init__(self, width: int, scale: bool):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(width))
        self.weight = nn.Parameter(torch.ones(width)) if scale else None
        self.register_buffer("running_mean", torch.zeros(width))
        self.register_buffer("running_var", torch.ones(width))


class VanillaCombinator(nn.Module):
    """g(z~, u) of Rasmus et al. 2015 (eq. 2 of the paper's appendix / section 3):
    mu = a1 sigmoid(a2 u + a3) + a4 u + a5, v = a6 sigmoid(a7 u + a8) + a9 u + a10,
    z^ = (z~ - mu) v + mu, with one a1..a10 per unit (per channel on feature maps)."""

    def __init__(self, width: int):
        super().__init__()
        for i, value in enumerate(COMBINATOR_INIT, start=1):
            setattr(self, f"a{i}", nn.Parameter(torch.full((width,), value)))

    def forward(self, z, u):
        shape = (1, -1) + (1,) * (z.dim() - 2)
        a = [getattr(self, f"a{i}").reshape(shape) for i in range(1, 11)]
        mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
        v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
        return (z - mu) * v + mu


def _axes(z) -> tuple:
    return (0,) if z.dim() == 2 else (0, 2, 3)


def _moments(z):
    """Batch mean and (biased) variance per unit / channel, shaped to broadcast against ``z``."""
    mean = z.mean(dim=_axes(z), keepdim=True)
    return mean, (z - mean).square().mean(dim=_axes(z), keepdim=True)


class LadderModel(TorchModel):
    """The passes of Algorithm 1 for both ladder networks (the layers come from ``layer_specs``)."""

    def build_ladder(self) -> None:
        specs, k = self.layer_specs, self.kernel_size if hasattr(self, "kernel_size") else 1
        layers, vs = [], []
        for spec in specs:
            if spec.kind == "conv":
                c_in, c_out = spec.in_shape[0], spec.out_shape[0]
                layers.append(nn.Conv2d(c_in, c_out, k, stride=2, padding=k // 2, bias=False))
                vs.append(nn.ConvTranspose2d(c_out, c_in, k, stride=2, padding=k // 2,
                                             output_padding=tuple(spec.output_padding), bias=False))
            else:
                n_in, n_out = math.prod(spec.in_shape), spec.out_shape[0]
                layers.append(nn.Linear(n_in, n_out, bias=False))
                vs.append(nn.Linear(n_out, n_in, bias=False))
        for layer in layers + vs:
            nn.init.xavier_uniform_(layer.weight)
        last = len(specs) - 1
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(layers)
        self.encoder.norms = nn.ModuleList(LadderNorm(s.out_shape[0], i == last) for i, s in enumerate(specs))
        self.decoder = nn.Module()
        self.decoder.layers = nn.ModuleList(vs)
        self.decoder.combinators = nn.ModuleList(VanillaCombinator(shape[0]) for shape in self.layer_shapes)

    # -- the passes ----------------------------------------------------------------------------
    def _as_input(self, x):
        return x.reshape(-1, *self.layer_shapes[0]) if len(self.layer_shapes[0]) > 1 else x

    def _encode(self, x, batch_statistics: bool, noise: Optional[List] = None):
        """One encoder pass -> (logits, h(L), [z(0)..z(L)], [(mu, sigma^2) of layers 1..L]).
        ``noise``: standard-normal draws per z(l), scaled by ``noise_std`` (None: clean pass)."""
        h = z = self._as_input(x)
        if noise is not None:
            h = z = z + self.noise_std * noise[0]
        zs, moments = [z], []
        last = self.n_layers - 1
        for i, (layer, norm) in enumerate(zip(self.encoder.layers, self.encoder.norms)):
            pre = layer(h.flatten(1) if isinstance(layer, nn.Linear) else h)
            if batch_statistics:
                mean, var = _moments(pre)
            else:
                shape = (1, -1) + (1,) * (pre.dim() - 2)
                mean, var = norm.running_mean.reshape(shape), norm.running_var.reshape(shape)
            z = (pre - mean) / torch.sqrt(var + self.eps)
            if noise is not None:
                z = z + self.noise_std * noise[i + 1]
            zs.append(z)
            moments.append((mean, var))
            shifted = z + norm.bias.reshape((1, -1) + (1,) * (z.dim() - 2))
            if i < last:
                h = ACTIVATIONS[self.activation](shifted)
            else:
                logits = norm.weight * shifted
                h = torch.softmax(logits, dim=1)
        return logits, h, zs, moments

    def _batchnorm(self, u):
        mean, var = _moments(u)
        return (u - mean) / torch.sqrt(var + self.eps)

    def _decode(self, h_top, corrupted: List, clean: List, moments: List) -> List:
        """Decoder from the top; returns mean((z(l) - z^_BN(l))^2) for l = 0..L."""
        costs = [None] * (self.n_layers + 1)
        z_hat = None
        for l in range(self.n_layers, -1, -1):
            if l == self.n_layers:
                u = h_top
            else:
                u = self.decoder.layers[l](z_hat).reshape(corrupted[l].shape)
            z_hat = self.decoder.combinators[l](corrupted[l], self._batchnorm(u))
            if l == 0:
                z_bn = z_hat
            else:
                mean, var = moments[l - 1]
                z_bn = (z_hat - mean) / torch.sqrt(var + self.eps)
            costs[l] = (clean[l] - z_bn).square().mean()
        return costs

    def ladder_terms(self, x, noise: Optional[Sequence] = None, update_statistics: bool = True) -> LadderTerms:
        """Clean pass, corrupted pass and decoder on the batch ``x`` (batch statistics); with
        ``update_statistics`` the running statistics move towards the clean pass's."""
        clean_logits, _, clean, moments = self._encode(x, batch_statistics=True)
        if noise is None:
            draws = None
        else:
            draws = [self._tensor(n).reshape(z.shape) for n, z in zip(noise, clean)]
        if draws is None:
            draws = [torch.randn_like(z) for z in clean]
        logits, h_top, corrupted, _ = self._encode(x, batch_statistics=True, noise=draws)
        costs = self._decode(h_top, corrupted, clean, moments)
        if update_statistics:
            self._update_statistics(moments, clean)
        return LadderTerms(clean_logits, logits, costs)

    @torch.no_grad()
    def _update_statistics(self, moments, zs) -> None:
        for (mean, var), norm, z in zip(moments, self.encoder.norms, zs[1:]):
            n = z.numel() // z.shape[1]
            norm.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.flatten())
            norm.running_var.mul_(1 - self.momentum).add_(self.momentum * var.flatten() * (n / max(n - 1, 1)))

    def forward(self, x):
        """Clean encoder with the running statistics: logits (N, classes)."""
        return self._encode(x, batch_statistics=False)[0]

    # -- helpers of the core cost -------------------------------------------------------------
    @staticmethod
    def label_mask(targets):
        return (targets >= 0).float()

    @staticmethod
    def log_likelihoods(logits, targets):
        """log softmax(logits)[n, t_n] per sample (class 0 read for unlabelled samples)."""
        return torch.log_softmax(logits, dim=1).gather(1, targets.long().clamp(min=0)[:, None])[:, 0]

    @staticmethod
    def hits(logits, targets):
        return (logits.argmax(dim=1) == targets).float()

    @staticmethod
    def scalar(value) -> float:
        return float(value.detach().cpu())


@register("classification")
class LadderNetworks(LadderNetworksBase, LadderModel):
    __doc__ = LadderNetworksBase.__doc__


@register("classification")
class ConvolutionalLadderNetworks(ConvolutionalLadderNetworksBase, LadderModel):
    __doc__ = ConvolutionalLadderNetworksBase.__doc__
