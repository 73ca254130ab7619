"""The backend-neutral half of MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted
Residuals and Linear Bottlenecks"): hyper-parameters, checks, the layer plan and the loss per
batch. ``accelbrainbase.torch.mobilenet`` and ``accelbrainbase.mxnet.mobilenet`` add only the
framework's layers and ``forward`` / ``hybrid_forward``.

Canonical state names (both backends): ``encoder.stem.conv.weight`` (out, in, 3, 3),
``encoder.stem.norm.{weight,bias,running_mean,running_var}``; per inverted-residual block i
``encoder.blocks.<i>.expand.*`` (1x1, absent when t = 1), ``encoder.blocks.<i>.depthwise.*``
(3x3, (channels, 1, 3, 3)), ``encoder.blocks.<i>.project.*`` (1x1, no activation), each with
``.conv.weight`` and ``.norm.*``; ``encoder.last.conv.weight`` / ``encoder.last.norm.*`` and
``encoder.classifier.weight`` (outputs, last) / ``.bias``. Convolutions have no bias.
"""
from __future__ import annotations

from typing import List, Sequence

from accelbrainbase.models.convolutional import ImageModel, image_shape_for
from accelbrainbase.core.errors import InputError
from accelbrainbase.core.learner import SupervisedLearner
from accelbrainbase.core.optim import OptimizerSpec
from accelbrainbase.core.validation import check_fraction, check_positive

#: the inverted-residual settings (expansion t, output channels c, repeats n, first stride s)
INVERTED_RESIDUAL_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                              (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
STEM_CHANNELS, LAST_CHANNELS, ROUND_TO = 32, 1280, 8
OUTPUT_STRIDES = (1, 2, 4, 8, 16, 32)


def make_divisible(value: float, divisor: int = ROUND_TO) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``divisor``), never
    more than 10% below ``value`` (torchvision's ``_make_divisible``)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def conv_output_size(size: int, stride: int) -> int:
    """Spatial size after a 3x3 convolution with padding 1: ceil(size / stride)."""
    return (size + 2 - 3) // stride + 1


def mobilenet_plan(in_channels: int, width_multiplier: float, output_stride: int = 32) -> dict:
    """The layer widths and strides: ``stem`` channels and ``stem_stride``, ``blocks`` as dicts
    (inp, hidden, out, stride, expand, residual) and ``last`` channels. Strides that would take
    the total downsampling past ``output_stride`` become 1 (the paper's network: 32)."""
    stem = make_divisible(STEM_CHANNELS * width_multiplier)
    last = make_divisible(LAST_CHANNELS * max(1.0, width_multiplier))
    stem_stride = 2 if output_stride >= 2 else 1
    total = stem_stride
    blocks: List[dict] = []
    width = stem
    for t, c, n, s in INVERTED_RESIDUAL_SETTINGS:
        out = make_divisible(c * width_multiplier)
        for i in range(n):
            stride = s if i == 0 and total * s <= output_stride else 1
            total *= stride
            blocks.append(dict(inp=width, hidden=int(round(width * t)), out=out, stride=stride,
                               expand=t != 1, residual=stride == 1 and width == out))
            width = out
    return dict(in_channels=in_channels, stem=stem, stem_stride=stem_stride, blocks=blocks, last=last)


def check_strides(image_shape, plan) -> tuple:
    """The spatial size after every stride of the plan; a clear error should it reach 0."""
    _, h, w = image_shape
    for where, stride in [("the stem", plan["stem_stride"])] + [(f"block {i}", b["stride"]) for i, b in enumerate(plan["blocks"])]:
        h, w = conv_output_size(h, stride), conv_output_size(w, stride)
        if h < 1 or w < 1:
            raise InputError(f"an image of {image_shape[1]}x{image_shape[2]} is too small for MobileNetV2's "
                             f"strides (it vanishes at {where})")
    return h, w


class MobileNetV2Base(SupervisedLearner, ImageModel):
    """MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
    Bottlenecks") as a classifier.

    Stem: 3x3 conv, stride 2, 32*w channels -> BN -> ReLU6. Then the inverted residuals of
    :data:`INVERTED_RESIDUAL_SETTINGS` (t, c, n, s): 1x1 expansion to t*in channels -> BN ->
    ReLU6 (none when t = 1), 3x3 depthwise conv (groups = channels, stride s on the first of the
    n repeats) -> BN -> ReLU6, 1x1 projection to c*w channels -> BN with no activation (the
    linear bottleneck), plus the block's input when the stride is 1 and the width unchanged.
    Head: 1x1 conv to max(1280, 1280*w) -> BN -> ReLU6, global average pool, dropout, dense
    ``outputs``. Widths are rounded to multiples of 8 as torchvision does, so w = 1 with 1000
    classes has 3,504,872 parameters. Convolutions use padding 1 (3x3), so a side of size h
    becomes ceil(h/2) at each stride: any image of at least one pixel fits (the 32x total
    stride reduces small images to 1x1). Shapes: (N, C, H, W) (or flat) -> (N, outputs) logits.
    ``output_stride`` (1, 2, 4, ..., 32) caps the total downsampling: strides that would pass
    it become 1, so small images keep a spatial map through the blocks (8x8 digits at
    ``output_stride=4`` end at 2x2 instead of 1x1; the paper's network is ``output_stride=32``).
    Supervised; with the default cross-entropy the history has ``accuracy``.
    """

    #: the backend's MobileNetV2 encoder block, set by the backend module
    encoder_class: type = None

    def __init__(self, image_shape: Sequence[int] = (3, 224, 224), outputs: int = 1000,
                 width_multiplier: float = 1.0, dropout: float = 0.2, output_stride: int = 32,
                 flat: bool = False, loss="cross_entropy", optimizer="adam", regularizers=(), device: str = "cpu"):
        super().__init__()  # the framework's module / block
        self._check_mobilenet(image_shape, outputs, width_multiplier, dropout, output_stride, flat)
        self.encoder = self.encoder_class(**self.encoder_config())
        self._setup_learning(loss, optimizer, regularizers, device)

    def _check_mobilenet(self, image_shape, outputs, width_multiplier, dropout, output_stride, flat) -> None:
        self._check_image(image_shape, flat)
        self.outputs = check_positive("outputs", outputs, integer=True)
        self.width_multiplier = check_positive("width_multiplier", width_multiplier)
        self.dropout = check_fraction("dropout", dropout)
        if isinstance(output_stride, bool) or output_stride not in OUTPUT_STRIDES:
            raise InputError(f"output_stride must be one of {OUTPUT_STRIDES}, got {output_stride!r}")
        self.output_stride = int(output_stride)
        self.plan = mobilenet_plan(self.image_shape[0], self.width_multiplier, self.output_stride)
        self.out_hw = check_strides(self.image_shape, self.plan)

    def encoder_config(self) -> dict:
        """The keyword arguments of the backend's ``MobileNetV2Encoder`` block."""
        return dict(image_shape=self.image_shape, plan=self.plan, outputs=self.outputs,
                    dropout=self.dropout, flat=self.flat)

    @property
    def output_width(self) -> int:
        return self.outputs

    @classmethod
    def example(cls, n_features: int, code_size: int = 10, width_multiplier: float = 0.25,
                hidden: Sequence[int] = (), **kwargs):
        """A small MobileNetV2 (width 0.25) on the image of ``n_features`` (flat input; e.g.
        digits 1x8x8), ``code_size`` classes, no dropout, Adam at 0.01, and the output stride
        that leaves a final map of at least 2x2 (digits: 4, 28x28: 8, 224x224: 32).
        ``hidden`` (dense layers in the other classifiers' examples) must be empty: the
        network's widths come from ``width_multiplier``."""
        if hidden is None or len(tuple(hidden)):
            raise InputError(f"MobileNetV2 has no dense hidden layers (its widths follow width_multiplier), "
                             f"so hidden must be empty, got {hidden!r}")
        shape = kwargs.pop("image_shape", image_shape_for(n_features))
        kwargs.setdefault("output_stride", max(s for s in OUTPUT_STRIDES if s == 1 or 2 * s <= min(shape[1:])))
        kwargs.setdefault("flat", True)
        kwargs.setdefault("dropout", 0.0)
        kwargs.setdefault("optimizer", OptimizerSpec("adam", learning_rate=0.01))  # deep and narrow: learns slowly at 1e-3
        return cls(shape, outputs=code_size, width_multiplier=width_multiplier, **kwargs)

    def extra_repr(self) -> str:
        return (f"image_shape={self.image_shape}, outputs={self.outputs}, "
                f"width_multiplier={self.width_multiplier}, dropout={self.dropout}, "
                f"output_stride={self.output_stride}, flat={self.flat}")
