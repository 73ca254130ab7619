"""GPU checks: learn a few steps on "cuda"; outputs match the CPU run. Skipped without a GPU."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.data import ArrayIterator

pytestmark = pytest.mark.cuda


def _gpu_count(backend_name):
    if backend_name == "torch":
        import torch

        return torch.cuda.device_count()
    import mxnet as mx

    return mx.context.num_gpus()


def test_learns_on_cuda_like_on_cpu(backend, tiny):
    name = backend.__name__.split(".")[-1]
    if _gpu_count(name) == 0:
        pytest.skip(f"{name} sees no CUDA GPU")
    ab.seed_everything(0)
    runs = {}
    for device in ("cpu", "cuda"):
        model = backend.AutoEncoder.dense([12, 8, 4], device=device,
                                          optimizer=ab.OptimizerSpec("sgd", learning_rate=0.1))
        if device == "cpu":
            initial = model.export_state()
        else:
            model.import_state(initial)
        model.learn(ArrayIterator(tiny[0], batch_size=16, epochs=3, shuffle=False), progress=False)
        runs[device] = model
    np.testing.assert_allclose(runs["cuda"].inference(tiny[0]), runs["cpu"].inference(tiny[0]), atol=1e-4)
    np.testing.assert_allclose(runs["cuda"].history["train_loss"], runs["cpu"].history["train_loss"], rtol=1e-4)


def test_cuda_checkpoint_loads_on_cpu(backend, tiny, tmp_path):
    name = backend.__name__.split(".")[-1]
    if _gpu_count(name) == 0:
        pytest.skip(f"{name} sees no CUDA GPU")
    model = backend.AutoEncoder.dense([12, 8, 4], device="cuda")
    model.save(tmp_path / "m")
    cpu = type(model).load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(cpu.inference(tiny[0]), model.inference(tiny[0]), atol=1e-5)
