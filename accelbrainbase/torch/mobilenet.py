"""MobileNetV2 (PyTorch). Hyper-parameters, checks and the layer plan: models/mobilenet.py; here
only layers and ``forward``."""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from accelbrainbase.models.mobilenet import MobileNetV2Base
from accelbrainbase.core.registry import register
from accelbrainbase.torch._glue import TorchModel


class ConvNorm(nn.Module):
    """Convolution without bias -> batch norm -> ReLU6 (``activation`` False: none)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, activation=True):
        super().__init__()
        self.activation = activation
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                              groups=groups, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        x = self.norm(self.conv(x))
        return F.relu6(x) if self.activation else x


class InvertedResidual(nn.Module):
    """1x1 expansion (t > 1) -> 3x3 depthwise (stride) -> 1x1 linear projection (+ input)."""

    def __init__(self, inp, hidden, out, stride, expand, residual):
        super().__init__()
        self.residual = residual
        self.expand = ConvNorm(inp, hidden, 1) if expand else None
        self.depthwise = ConvNorm(hidden, hidden, 3, stride=stride, groups=hidden)
        self.project = ConvNorm(hidden, out, 1, activation=False)

    def forward(self, x):
        y = x if self.expand is None else self.expand(x)
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


class MobileNetV2Encoder(nn.Module):
    """The whole network, images (or flat images) -> logits (see MobileNetV2Base)."""

    def __init__(self, image_shape, plan, outputs, dropout, flat):
        super().__init__()
        self.image_shape, self.dropout, self.flat = tuple(image_shape), dropout, flat
        self.stem = ConvNorm(plan["in_channels"], plan["stem"], 3, stride=plan["stem_stride"])
        self.blocks = nn.ModuleList(InvertedResidual(**block) for block in plan["blocks"])
        self.last = ConvNorm(plan["blocks"][-1]["out"], plan["last"], 1)
        self.classifier = nn.Linear(plan["last"], outputs)

    def forward(self, x):
        if self.flat:
            x = x.reshape(-1, *self.image_shape)
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        x = self.last(x).mean(dim=(2, 3))
        if self.dropout:
            x = F.dropout(x, self.dropout, self.training)
        return self.classifier(x)


@register("classification")
class MobileNetV2(MobileNetV2Base, TorchModel):
    __doc__ = MobileNetV2Base.__doc__
    encoder_class = MobileNetV2Encoder

    def forward(self, x):
        return self.encoder(x)
