"""MobileNetV2 (Sandler et al. 2018): its size against torchvision's count, its structure
(depthwise 3x3, linear bottlenecks, residuals), learning on digits, checks and parity."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.optim import OptimizerSpec
from accelbrainbase.models.mobilenet import check_strides, make_divisible, mobilenet_plan
from accelbrainbase.data import load_digits


def torch_or_skip():
    return pytest.importorskip("accelbrainbase.torch")


def convs(backend, model):
    """(name, in_channels, out_channels, kernel, groups) of every convolution, and the model's
    canonical state shapes."""
    shapes = {k: v.shape for k, v in model.export_state().items()}
    found = []
    for name, shape in shapes.items():
        if name.endswith("conv.weight"):
            out, in_per_group, k, _ = shape
            if backend.__name__.endswith("torch"):
                layer = model.get_submodule(name[:-len(".weight")])
                groups, cin = layer.groups, layer.in_channels
            else:
                block = model
                for part in name.split(".")[:-1]:
                    block = block[int(part)] if part.isdigit() else getattr(block, part)
                groups = block._kwargs["num_group"]
                cin = in_per_group * groups
            found.append((name, cin, out, k, groups))
    return found, shapes


def test_make_divisible_is_torchvisions():
    assert [make_divisible(v) for v in (32, 8, 4, 6, 12, 1280, 320 * 0.35, 96 * 0.75)] == [32, 8, 8, 8, 16, 1280, 112, 72]
    plan = mobilenet_plan(3, 1.0)
    assert plan["stem"] == 32 and plan["last"] == 1280 and len(plan["blocks"]) == 17
    assert [b["out"] for b in plan["blocks"]] == [16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96,
                                                  160, 160, 160, 320]
    assert mobilenet_plan(3, 1.4)["last"] == 1792 and mobilenet_plan(3, 0.5)["last"] == 1280
    assert check_strides((3, 224, 224), plan) == (7, 7)
    assert check_strides((1, 8, 8), plan) == (1, 1) and check_strides((1, 1, 1), plan) == (1, 1)


@pytest.mark.parametrize("output_stride", [1, 2, 4, 8, 16, 32])
def test_output_stride_caps_the_downsampling(output_stride):
    plan = mobilenet_plan(1, 1.0, output_stride)
    strides = [plan["stem_stride"]] + [b["stride"] for b in plan["blocks"]]
    assert int(np.prod(strides)) == output_stride
    full = mobilenet_plan(1, 1.0)
    kept = [i for i, b in enumerate(plan["blocks"]) if b["stride"] == 2]
    assert kept == [i for i, b in enumerate(full["blocks"]) if b["stride"] == 2][:len(kept)]  # the first strides stay
    assert all(b["residual"] == (b["stride"] == 1 and b["inp"] == b["out"]) for b in plan["blocks"])
    assert check_strides((1, 64, 64), plan) == (64 // output_stride,) * 2


def test_parameter_count_is_torchvisions(backend):
    """3,504,872 trainable parameters at width 1, 1000 classes, 224x224 (torchvision's
    mobilenet_v2), with no forward pass."""
    model = backend.MobileNetV2()
    assert model.n_parameters == 3_504_872
    if backend.__name__.endswith("torch"):
        assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 3_504_872
    else:
        trainable = [p for p in model.collect_params().values() if p.grad_req != "null"]
        assert int(sum(np.prod(p.shape) for p in trainable)) == 3_504_872
    assert backend.MobileNetV2(outputs=10, width_multiplier=0.5).n_parameters < 3_504_872


def test_structure_depthwise_and_linear_bottlenecks(backend):
    model = backend.MobileNetV2()
    found, shapes = convs(backend, model)
    assert not any(name.endswith("conv.bias") for name in shapes)  # convolutions without bias
    three = [c for c in found if c[3] == 3]
    assert three[0][0] == "encoder.stem.conv.weight" and three[0][1:] == (3, 32, 3, 1)
    assert len(three) == 18
    for name, cin, out, _, groups in three[1:]:  # every other 3x3 is depthwise
        assert name.endswith("depthwise.conv.weight") and groups == cin == out, name
    assert all(c[3] == 1 and c[4] == 1 for c in found if c[3] != 3)
    assert "encoder.blocks.0.expand.conv.weight" not in shapes  # t = 1: no expansion
    assert shapes["encoder.blocks.1.expand.conv.weight"] == (96, 16, 1, 1)
    assert shapes["encoder.last.conv.weight"] == (1280, 320, 1, 1)
    assert shapes["encoder.classifier.weight"] == (1000, 1280)
    blocks = model.encoder.blocks
    assert all(block.project.activation is False for block in blocks)
    assert all(block.depthwise.activation and (block.expand is None or block.expand.activation) for block in blocks)
    assert [i for i, block in enumerate(blocks) if block.residual] == [2, 4, 5, 7, 8, 9, 11, 12, 14, 15]


def test_projection_output_goes_negative_torch():
    """By a forward hook: the projections' outputs keep negative values (no ReLU6), the
    depthwise ones lie in [0, 6]."""
    tb = torch_or_skip()
    ab.seed_everything(0)
    model = tb.MobileNetV2.example(64)
    seen = {}
    for i, block in enumerate(model.encoder.blocks):
        for part in ("depthwise", "project"):
            getattr(block, part).register_forward_hook(
                lambda mod, inp, out, key=(i, part): seen.__setitem__(key, out.detach()))
    model.inference(np.random.default_rng(0).random((16, 64)).astype(np.float32))
    assert all(seen[(i, "project")].min() < 0 for i in range(len(model.encoder.blocks)))
    assert all(0 <= seen[(i, "depthwise")].min() and seen[(i, "depthwise")].max() <= 6
               for i in range(len(model.encoder.blocks)))


def test_tiny_mobilenet_learns_digits(backend):
    ab.seed_everything(0)
    dataset = load_digits()
    model = backend.MobileNetV2.example(dataset.n_features, code_size=10,
                                        optimizer=OptimizerSpec("adam", learning_rate=0.01))
    assert model.input_shape == (64,) and model.output_stride == 4  # 8x8 -> a final 2x2 map
    model.learn(dataset.iterator(batch_size=32, epochs=4, seed=0), progress=False)
    assert model.history["test_accuracy"].iloc[-1] >= 0.4  # chance is 0.1
    assert (model.inference(dataset.x_test).argmax(axis=1) == dataset.y_test).mean() >= 0.4


def test_images_of_any_size_and_bad_hyper_parameters(backend):
    model = backend.MobileNetV2((2, 5, 3), outputs=4, width_multiplier=0.25)
    x = np.random.default_rng(0).random((3, 2, 5, 3)).astype(np.float32)
    assert model.inference(x).shape == (3, 4)
    assert model.get_config()["width_multiplier"] == 0.25
    with pytest.raises(ab.InputError, match="width_multiplier"):
        backend.MobileNetV2(width_multiplier=0)
    with pytest.raises(ab.InputError, match="dropout"):
        backend.MobileNetV2(dropout=1.0)
    with pytest.raises(ab.InputError, match="channels, height, width"):
        backend.MobileNetV2((224, 224))
    with pytest.raises(ab.InputError, match="outputs"):
        backend.MobileNetV2(outputs=0)
    with pytest.raises(ab.InputError, match=r"output_stride must be one of \(1, 2, 4, 8, 16, 32\), got 3"):
        backend.MobileNetV2(output_stride=3)
    with pytest.raises(ab.ShapeError):
        model.inference(np.zeros((2, 2, 5, 4), dtype=np.float32))


def test_too_small_image_is_a_clear_error():
    plan = mobilenet_plan(1, 1.0)
    with pytest.raises(ab.InputError, match="too small"):
        check_strides((1, 0, 8), plan)


@pytest.mark.parity
@pytest.mark.parametrize("config", [dict(width_multiplier=0.25, image_shape=(1, 8, 8), outputs=10),
                                    dict(width_multiplier=0.35, image_shape=(3, 17, 13), outputs=5, dropout=0.0),
                                    dict(width_multiplier=0.25, image_shape=(1, 8, 8), outputs=3, output_stride=2)])
def test_mobilenet_parity(both_backends, config):
    tb, mb = both_backends
    ab.seed_everything(0)
    from accelbrainbase.data import ArrayIterator

    shape = config["image_shape"]
    x = np.random.default_rng(0).random((24,) + shape).astype(np.float32)
    y = np.random.default_rng(1).integers(0, config["outputs"], 24)
    t = tb.MobileNetV2(**config)
    t.learn(ArrayIterator(x, y, batch_size=12, epochs=2), progress=False)  # running statistics move
    m = mb.MobileNetV2(**config)
    assert t.n_parameters == m.n_parameters
    m.import_state(t.export_state())
    out = t.inference(x)
    np.testing.assert_allclose(out, m.inference(x), atol=1e-4, rtol=1e-4)
    no_dropout = {**config, "dropout": 0.0}
    t, m = tb.MobileNetV2(**no_dropout), mb.MobileNetV2(**no_dropout)
    m.import_state(t.export_state())
    batch = ab.Batch(x, x, y)
    lt, lm = t.resolve_logs(t.learn_step(batch)), m.resolve_logs(m.learn_step(batch))
    for key in lt:  # the training-mode loss (batch statistics) before the update agrees
        assert lt[key] == pytest.approx(lm[key], rel=1e-4, abs=1e-6), key


def test_example_refuses_hidden_layers_it_cannot_build(backend):
    """``hidden`` would be silently dropped: MobileNetV2 has no dense hidden layers."""
    assert backend.MobileNetV2.example(64, code_size=3, hidden=()).outputs == 3
    with pytest.raises(ab.InputError, match=r"no dense hidden layers.*hidden must be empty, got \(8,\)"):
        backend.MobileNetV2.example(64, code_size=3, hidden=(8,))
