"""Generation: every model registered for ``generation`` learns the same real training split under
the same budget (epochs, batch size, seed) and generates as many samples as the test split has;
:class:`GenerationEvaluator` scores them against the real test split (Fréchet distance and kernel
MMD of the project's own CNN features, 1-NN two-sample accuracy, classes covered, conditional
accuracy for conditional models), next to two baselines: the real training split (the floor) and
a Gaussian mixture on PCA codes (a classical generator). On the 2-D ring the features are the
points and the modes covered / share of high-quality samples are added.

Conditional models (``conditional_example``) are asked for the test split's labels.
"""
from __future__ import annotations

import inspect
import os
import time
from typing import Dict, List, Optional

import numpy as np

from accelbrainbase.core.callbacks import Callback
from accelbrainbase.core.config import constructor_parameters
from accelbrainbase.core.registry import models
from accelbrainbase.core.seeding import seed_everything
from accelbrainbase.data.datasets import Dataset, load_dataset
from accelbrainbase.workbench.generation_eval import GaussianMixturePCA, GenerationEvaluator

COLUMNS = ("model", "backend", "parameters", "train_seconds", "frechet", "mmd", "one_nn", "classes_covered",
           "conditional_accuracy")
RING_COLUMNS = ("model", "backend", "parameters", "train_seconds", "modes_covered", "high_quality", "mmd",
                "one_nn")
DEFAULT_DATA = "digits"
PLOT_METRIC = "frechet"
PLOT_TITLE = "Fréchet distance to the test split (lower is better)"

#: the examples' size and the batch size per data set (every model gets the same)
SETTINGS = {
    "digits": dict(code_size=16, hidden=(128,), batch_size=64),
    "mnist5k": dict(code_size=32, hidden=(256,), batch_size=64),
    "fashion-mnist": dict(code_size=32, hidden=(256,), batch_size=64),
    "ring": dict(code_size=2, hidden=(128, 128), batch_size=256,
                 tuned=dict(activation="relu", learning_rate=2e-3)),  # tests/test_adversarial.py's ring test
}


def load_data(name: str) -> Dataset:
    if name == "ring":
        from accelbrainbase.data.synthetic import load_ring

        return load_ring()
    return load_dataset(name)


def columns_for(dataset: Dataset):
    return RING_COLUMNS if _is_ring(dataset) else COLUMNS


def _is_ring(dataset: Dataset) -> bool:
    return getattr(dataset, "centers", None) is not None


def build(cls, dataset: Dataset):
    """The registered class's example for ``dataset``: the data set's sizes, outputs in the data's
    range (sigmoid for images in [0, 1], identity and Gaussian likelihoods for the ring); on the
    ring the adversarial examples also take the ring test's ReLUs and learning rate."""
    settings = SETTINGS.get(dataset.name, SETTINGS["digits"])
    kwargs = dict(code_size=settings["code_size"], hidden=settings["hidden"])
    if getattr(cls, "conditional_example", False):
        kwargs["n_classes"] = dataset.n_classes
    if _is_ring(dataset):
        kwargs["output_activation"] = "identity"
        if "reconstruction" in constructor_parameters(cls):
            kwargs["reconstruction"] = "gaussian"
    accepted = inspect.signature(cls.example).parameters
    kwargs.update({k: v for k, v in settings.get("tuned", {}).items() if k in accepted})
    return cls.example(dataset.n_features, **kwargs)


def run_model(cls, backend: str, dataset: Dataset, evaluator: GenerationEvaluator, *, epochs: int, seed: int,
              progress: bool, callbacks=()) -> Dict:
    """Train one registered model from its example; generate and score as many samples as the
    test split has (conditional models: for the test split's labels)."""
    seed_everything(seed)
    model = build(cls, dataset)
    conditional = getattr(model, "conditional", False)
    batch_size = SETTINGS.get(dataset.name, SETTINGS["digits"])["batch_size"]
    data = dataset.iterator(batch_size=batch_size, epochs=epochs, seed=seed, labels=conditional)
    start = time.perf_counter()
    model.learn(data, progress=progress, callbacks=callbacks)
    seconds = time.perf_counter() - start
    labels = dataset.y_test if conditional else None
    samples = model.generate(len(dataset.x_test), labels=labels)
    row = {"model": cls.__name__, "backend": backend, "parameters": model.n_parameters, "train_seconds": seconds}
    row.update(evaluator.score(samples, requested_labels=labels))
    row.update(samples=samples, model_object=model)
    return row


def baselines(dataset: Dataset, evaluator: GenerationEvaluator, seed: int) -> List[Dict]:
    """The real training split (the floor) and a Gaussian mixture on PCA codes."""
    floor = {"model": "real training split", "backend": "data", "parameters": 0, "train_seconds": 0.0}
    floor.update(evaluator.floor())
    floor.pop("conditional_accuracy", None)
    start = time.perf_counter()
    mixture = GaussianMixturePCA(n_components=10, seed=seed).fit(dataset.x_train)
    seconds = time.perf_counter() - start
    samples = mixture.generate(len(dataset.x_test))
    classical = {"model": "GaussianMixture on PCA codes", "backend": "sklearn",
                 "parameters": mixture.n_parameters, "train_seconds": seconds, "samples": samples}
    classical.update(evaluator.score(samples))
    return [floor, classical]


def run(dataset: Dataset, backends, *, epochs: int = 30, seed: int = 0, progress: bool = True,
        evaluator: Optional[GenerationEvaluator] = None) -> List[Dict]:
    evaluator = evaluator or GenerationEvaluator(dataset, seed=seed, progress=progress)
    rows = []
    for backend in backends:
        for name, cls in sorted(models("generation", backend).items()):
            rows.append(run_model(cls, backend, dataset, evaluator, epochs=epochs, seed=seed, progress=progress))
    return rows + baselines(dataset, evaluator, seed)


def plot_samples(rows: List[Dict], dataset: Dataset, path: str, per_row: int = 12) -> str:
    """A PNG with a row of generated samples per model (the ring: a scatter plot per model)."""
    from accelbrainbase.core.plotting import plot_image_rows, plot_point_sets

    shown = [row for row in rows if row.get("samples") is not None]
    labels = [f"{row['model']} ({row['backend']})" for row in shown]
    if _is_ring(dataset):
        return plot_point_sets([dataset.x_test] + [row["samples"] for row in shown], ["real test split"] + labels,
                               path, title="ring of 8 Gaussians: generated points")
    shape = tuple(dataset.image_shape[-2:])
    return plot_image_rows([dataset.x_test[:per_row]] + [row["samples"][:per_row] for row in shown],
                           ["real"] + labels, shape, path, title=f"generated samples ({dataset.name})")


def write_pictures(rows: List[Dict], dataset: Dataset, out: str, stem: str) -> List[str]:
    os.makedirs(out, exist_ok=True)
    return [plot_samples(rows, dataset, os.path.join(out, f"{stem}-samples.png"))]


class SampleSnapshots(Callback):
    """Decodes the same latent inputs (``model.draw_latent(n, labels)``, drawn once at the start)
    at the end of every ``every``-th epoch: ``snapshots`` maps the epoch to samples (n, ...), so a
    picture shows how one set of samples evolves while learning."""

    def __init__(self, n: int = 10, labels=None, every: int = 1):
        self.n, self.labels, self.every = n, labels, every
        self.snapshots: Dict[int, np.ndarray] = {}
        self._latent = None

    def on_train_start(self, model, epochs, batches_per_epoch):
        self._latent = model.draw_latent(self.n, self.labels)

    def on_epoch_end(self, model, epoch, logs):
        if (epoch + 1) % self.every == 0:
            self.snapshots[epoch] = model.decode(self._latent)
