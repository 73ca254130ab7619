"""``demo NAME``: one model on real data, its numbers next to simple baselines, and pictures."""
from __future__ import annotations

import os

from accelbrainbase.core.registry import models
from accelbrainbase.core.validation import check_choice
from accelbrainbase.data.datasets import load_digits
from accelbrainbase.workbench import representation
from accelbrainbase.workbench.report import format_table

DEMOS = ("autoencoder",)


def demo_autoencoder(backend: str = "torch", epochs: int = 60, out: str = "out/demo-autoencoder",
                     seed: int = 0, progress: bool = True, echo=print) -> dict:
    """Auto-encoder with a 16-unit code on digits vs the mean image and PCA(16)."""
    dataset = load_digits()
    cls = models("representation", backend)["AutoEncoder"]
    row = representation.run_model(cls, backend, dataset, code_size=16, epochs=epochs,
                                   batch_size=32, seed=seed, progress=progress)
    model = row.pop("model_object")
    rows = [row] + representation.baselines(dataset, code_size=16)
    echo(format_table(rows, representation.COLUMNS))
    os.makedirs(out, exist_ok=True)
    from accelbrainbase.core.plotting import plot_image_rows

    x = dataset.x_test[:12]
    images = plot_image_rows([x, model.inference(x)], ["original", "reconstructed"],
                             dataset.image_shape, os.path.join(out, "reconstructions.png"),
                             title=f"AutoEncoder ({backend}), test digits")
    curves = model.history_.plot(os.path.join(out, "loss.png"), title=f"AutoEncoder ({backend}) on digits")
    echo(f"\npictures: {images}, {os.path.join(out, 'loss.png')}")
    del curves
    return {"rows": rows, "model": model}


def run_demo(name: str, **kwargs) -> dict:
    check_choice("demo", name, DEMOS)
    return {"autoencoder": demo_autoencoder}[name](**kwargs)
