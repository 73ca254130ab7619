"""``demo NAME``: one model on real data, its numbers next to simple baselines, and pictures."""
from __future__ import annotations

import os

import numpy as np

from accelbrainbase.core.registry import models
from accelbrainbase.core.seeding import seed_everything
from accelbrainbase.core.validation import check_choice
from accelbrainbase.data.datasets import load_digits
from accelbrainbase.workbench import representation
from accelbrainbase.workbench.report import format_table

DEMOS = ("autoencoder", "rbm")


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


def _log_likelihood_line(model, test: np.ndarray, seed: int) -> str:
    """Exact when the smaller layer can be enumerated, otherwise AIS with its spread."""
    if min(model.n_visible, model.n_hidden) <= 20:
        return f"exact test log-likelihood {model.log_likelihood(test).mean():.3f} nats/digit"
    ais = model.ais_log_partition(n_chains=100, n_betas=10000, seed=seed)
    value = model.log_likelihood(test, log_z=ais.log_z).mean()
    return (f"test log-likelihood {value:.3f} nats/digit (AIS log Z = {ais.log_z:.3f} "
            f"+/- {ais.log_z_std:.3f}, 100 chains, 10000 temperatures)")


def demo_rbm(backend: str = "torch", epochs: int = 60, out: str = "out/demo-rbm", seed: int = 0,
             progress: bool = True, echo=print, hidden: int = 64) -> dict:
    """A Bernoulli RBM (CD-1) on binarized digits: test log-likelihood, reconstruction MSE,
    pictures of its filters, reconstructions and samples."""
    from accelbrainbase.core.plotting import plot_filters, plot_image_rows
    from accelbrainbase.data.iterators import ArrayIterator

    dataset = load_digits()
    train = (dataset.x_train > 0.5).astype(np.float32)
    test = (dataset.x_test > 0.5).astype(np.float32)
    seed_everything(seed)
    model = models("representation", backend)["RestrictedBoltzmannMachines"](64, hidden)
    model.learn(ArrayIterator(train, test_x=test, batch_size=20, epochs=epochs, seed=seed), progress=progress)
    mse = float(np.mean((model.reconstruct(test) - test) ** 2))
    mean_mse = float(np.mean((train.mean(0) - test) ** 2))
    echo(f"RBM 64-{hidden} ({backend}), CD-1, {epochs} epochs on binarized digits")
    echo(f"  {_log_likelihood_line(model, test, seed)}")
    echo(f"  test reconstruction MSE {mse:.4f} (mean image: {mean_mse:.4f})")
    os.makedirs(out, exist_ok=True)
    x = test[:12]
    chains = model.gibbs(np.random.default_rng(seed).random((12, 64)).round().astype(np.float32), steps=1000)
    paths = [
        plot_filters(model.export_state()["weight"].T, dataset.image_shape, os.path.join(out, "filters.png"),
                     title=f"RBM filters ({backend})"),
        plot_image_rows([x, model.reconstruct(x)], ["original", "reconstructed"], dataset.image_shape,
                        os.path.join(out, "reconstructions.png"), title="binarized test digits"),
        plot_image_rows([chains], ["samples"], dataset.image_shape,
                        os.path.join(out, "samples.png"), title="after 1000 Gibbs steps from noise"),
    ]
    model.history_.plot(os.path.join(out, "loss.png"), title=f"RBM ({backend}) on digits")
    echo(f"  pictures: {', '.join(paths)}")
    return {"model": model, "reconstruction_mse": mse}


def run_demo(name: str, **kwargs) -> dict:
    check_choice("demo", name, DEMOS)
    return {"autoencoder": demo_autoencoder, "rbm": demo_rbm}[name](**kwargs)
