"""MobileNetV2 (MXNet Gluon). Hyper-parameters, checks and the layer plan: models/mobilenet.py;
here only layers and ``hybrid_forward``."""
from __future__ import annotations

from mxnet import gluon

from accelbrainbase.models.mobilenet import MobileNetV2Base
from accelbrainbase.core.registry import register
from accelbrainbase.mxnet._glue import GluonModel


def relu6(F, x):
    return F.clip(x, 0.0, 6.0)


class ConvNorm(gluon.HybridBlock):
    """Convolution without bias -> batch norm -> ReLU6 (``activation`` False: none)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1, activation=True):
        super().__init__()
        self.activation = activation
        self.conv = gluon.nn.Conv2D(out_channels, kernel_size, strides=stride, padding=kernel_size // 2,
                                    groups=groups, use_bias=False, in_channels=in_channels)
        self.norm = gluon.nn.BatchNorm(in_channels=out_channels)

    def hybrid_forward(self, F, x):
        x = self.norm(self.conv(x))
        return relu6(F, x) if self.activation else x


class InvertedResidual(gluon.HybridBlock):
    """1x1 expansion (t > 1) -> 3x3 depthwise (stride) -> 1x1 linear projection (+ input)."""

    def __init__(self, inp, hidden, out, stride, expand, residual):
        super().__init__()
        self.residual = residual
        self.expand = ConvNorm(inp, hidden, 1) if expand else None
        self.depthwise = ConvNorm(hidden, hidden, 3, stride=stride, groups=hidden)
        self.project = ConvNorm(hidden, out, 1, activation=False)

    def hybrid_forward(self, F, x):
        y = x if self.expand is None else self.expand(x)
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


class MobileNetV2Encoder(gluon.HybridBlock):
    """The whole network, images (or flat images) -> logits (see MobileNetV2Base)."""

    def __init__(self, image_shape, plan, outputs, dropout, flat):
        super().__init__()
        self.image_shape, self.dropout, self.flat = tuple(image_shape), dropout, flat
        self.stem = ConvNorm(plan["in_channels"], plan["stem"], 3, stride=plan["stem_stride"])
        self.blocks = gluon.nn.HybridSequential()
        for block in plan["blocks"]:
            self.blocks.add(InvertedResidual(**block))
        self.last = ConvNorm(plan["blocks"][-1]["out"], plan["last"], 1)
        self.classifier = gluon.nn.Dense(outputs, in_units=plan["last"])

    def hybrid_forward(self, F, x):
        if self.flat:
            x = F.reshape(x, shape=(-1,) + self.image_shape)
        x = self.blocks(self.stem(x))
        x = F.mean(self.last(x), axis=(2, 3))
        if self.dropout:
            x = F.Dropout(x, p=self.dropout)
        return self.classifier(x)


@register("classification")
class MobileNetV2(MobileNetV2Base, GluonModel):
    __doc__ = MobileNetV2Base.__doc__
    encoder_class = MobileNetV2Encoder

    def hybrid_forward(self, F, x):
        return self.encoder(x)
