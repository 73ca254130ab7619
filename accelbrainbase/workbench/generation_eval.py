"""The evaluation side of ``compare generation``: a feature extractor trained by this project
on the real training split (no pretrained weights, no downloads), cached on disk; a
:class:`GenerationEvaluator` that scores generated samples against real test samples; and the
two baselines of the table: real training vs real test samples (the floor) and a classical
generator, a Gaussian mixture on PCA codes (:class:`GaussianMixturePCA`).

Scores (``accelbrainbase.core.metrics``): Fréchet distance between Gaussians fitted to the
features (Heusel et al. 2017: the FID with the project's own CNN instead of Inception), the
unbiased squared kernel MMD (Gretton et al. 2012) and the 1-NN two-sample accuracy (Lopez-Paz &
Oquab 2017; 0.5 is ideal), all three against an equal-size seeded subset of the real test
split (Xu et al. 2018 found MMD and 1-NN the most reliable); the classes the classifier sees in
the samples (>= 5% each) and, for conditional generators, the share classified as the
requested label. For the 2-D ring the features are the points themselves, the "classifier" is
the nearest mode, and the modes covered / share of high-quality samples (VEEGAN, Srivastava et
al. 2017) are added.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError, NotFittedError, ShapeError
from accelbrainbase.core.metrics import (
    class_coverage, conditional_accuracy, frechet_distance, mmd, mode_coverage, one_nn_accuracy,
)
from accelbrainbase.core.validation import check_array, check_fraction, check_positive
from accelbrainbase.data.datasets import Dataset

#: the environment variable naming the cache root (evaluators live in ``<root>/evaluators``)
CACHE_ENV = "ACCELBRAINBASE_CACHE"
#: bumped when the extractor's training changes in a way its configuration does not show
CACHE_FORMAT = 1
#: the feature-extractor CNN and its training, per data set (others: the "default" entry)
EXTRACTOR_CONFIGS = {
    "digits": dict(channels=[16, 32], hidden=[64], epochs=12, batch_size=32, learning_rate=0.001),
    "mnist5k": dict(channels=[16, 32], hidden=[128], epochs=12, batch_size=64, learning_rate=0.001),
    "default": dict(channels=[16, 32], hidden=[128], epochs=12, batch_size=64, learning_rate=0.001),
}


def evaluator_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where trained feature extractors are cached: ``cache_dir`` if given, else
    ``$ACCELBRAINBASE_CACHE/evaluators``, else ``~/.cache/accelbrainbase/evaluators``."""
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get(CACHE_ENV)
    return (Path(root) if root else Path.home() / ".cache" / "accelbrainbase") / "evaluators"


@contextlib.contextmanager
def _preserved_random_state():
    """Training the extractor (only on a cache miss) must not change the caller's random
    streams, or a run would depend on the state of the cache."""
    import torch

    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


def _flat(what: str, x: Any, n_features: int) -> np.ndarray:
    """Samples (N, ...) with ``n_features`` values each, as float32 (N, n_features)."""
    arr = check_array(what, x, dtype=np.float32)
    if arr.ndim < 2 or int(np.prod(arr.shape[1:])) != n_features:
        raise ShapeError(f"{what} must be samples of {n_features} values each, (N, {n_features}) or "
                         f"(N, *image shape), got shape {arr.shape}")
    return arr.reshape(len(arr), n_features)


def _image_shape(dataset: Dataset) -> tuple:
    shape = tuple(dataset.image_shape)
    return shape if len(shape) == 3 else (1,) + shape


class FeatureExtractor:
    """A torch ``ConvolutionalNeuralNetworks`` trained with a fixed seed on the real training
    split of an image :class:`Dataset` (flat input), cached on disk under
    ``<cache>/<dataset name>-<hash>`` (the hash covers the network, its training, the data's
    shape and a digest of the training data), saved with the model's own ``save`` and loaded
    with ``load``; retrained when absent or unreadable.

    ``features(x)`` are the penultimate activations (N, hidden[-1]); ``predict(x)`` the classes
    (N,); ``accuracy`` the accuracy on the test split.
    """

    def __init__(self, dataset: Dataset, cache_dir: str | os.PathLike | None = None, seed: int = 0,
                 epochs: Optional[int] = None, progress: bool = False, **overrides: Any):
        if not isinstance(dataset, Dataset):
            raise InputError(f"dataset must be an accelbrainbase Dataset (e.g. load_digits()), got {dataset!r}")
        if len(dataset.image_shape) not in (2, 3):
            raise InputError(f"the feature extractor is a CNN for image data sets, but {dataset.name!r} has "
                             f"samples of shape {dataset.image_shape}")
        self.dataset = dataset
        self.seed = check_positive("seed", seed, integer=True, allow_zero=True)
        config = dict(EXTRACTOR_CONFIGS.get(dataset.name, EXTRACTOR_CONFIGS["default"]))
        unknown = sorted(set(overrides) - set(config))
        if unknown:
            raise InputError(f"unknown feature-extractor settings {unknown}; valid: {sorted(config)}")
        config.update(overrides)
        if epochs is not None:
            config["epochs"] = epochs
        config["epochs"] = check_positive("epochs", config["epochs"], integer=True)
        self.config = config
        self.directory = evaluator_cache_dir(cache_dir) / f"{dataset.name}-{self.cache_key()}"
        self.loaded_from_cache = False
        with _preserved_random_state():  # building or loading a model draws initial weights
            self.classifier = self._load() or self._train(progress)
        self.accuracy = float(np.mean(self.predict(dataset.x_test) == dataset.y_test))

    def cache_key(self) -> str:
        """A hash of the network, its training settings, the data's shape and the training data."""
        ds = self.dataset
        digest = hashlib.sha256(np.ascontiguousarray(ds.x_train, dtype=np.float32).tobytes())
        digest.update(np.ascontiguousarray(ds.y_train, dtype=np.int64).tobytes())
        spec = {"format": CACHE_FORMAT, "config": self.config, "seed": self.seed,
                "image_shape": list(_image_shape(ds)), "n_classes": ds.n_classes,
                "n_train": len(ds.x_train), "data": digest.hexdigest()}
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]

    def _build(self):
        from accelbrainbase.core.optim import OptimizerSpec
        from accelbrainbase.torch import ConvolutionalNeuralNetworks

        c = self.config
        return ConvolutionalNeuralNetworks(
            _image_shape(self.dataset), channels=list(c["channels"]), hidden=list(c["hidden"]),
            outputs=self.dataset.n_classes, flat=True,
            optimizer=OptimizerSpec("adam", learning_rate=c["learning_rate"]))

    def _load(self):
        if not (self.directory / "model.json").is_file():
            return None
        from accelbrainbase.torch import ConvolutionalNeuralNetworks

        try:
            model = ConvolutionalNeuralNetworks.load(str(self.directory))
            if model.get_config() != self._build().get_config():
                raise InputError("its configuration differs from the requested one")
        except Exception as exc:  # unreadable, truncated, or another model: train a fresh one
            warnings.warn(f"retraining the feature extractor: the cached one in {str(self.directory)!r} "
                          f"could not be used ({type(exc).__name__}: {exc})", RuntimeWarning, stacklevel=3)
            return None
        self.loaded_from_cache = True
        return model

    def _train(self, progress: bool):
        from accelbrainbase.core.seeding import seed_everything
        from accelbrainbase.data.iterators import ArrayIterator

        ds, c = self.dataset, self.config
        seed_everything(self.seed)
        model = self._build()
        data = ArrayIterator(_flat("x_train", ds.x_train, ds.n_features), ds.y_train,
                             batch_size=c["batch_size"], epochs=c["epochs"], seed=self.seed)
        model.learn(data, progress=progress)
        self._store(model)
        return model

    def _store(self, model) -> None:
        """Save into a fresh folder, then rename it into place (a concurrent or crashed run
        never leaves a half-written extractor under the key)."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = self.directory.with_name(f".{self.directory.name}-{uuid.uuid4().hex[:8]}")
        model.save(str(staging))
        if self.directory.exists():
            shutil.rmtree(self.directory, ignore_errors=True)  # the unreadable one
        try:
            os.rename(staging, self.directory)
        except OSError:  # another process stored the same extractor meanwhile
            shutil.rmtree(staging, ignore_errors=True)

    def features(self, x: Any) -> np.ndarray:
        """Penultimate activations of samples (N, F) or (N, *image shape) -> (N, width)."""
        return self.classifier.extract_feature_points(_flat("samples", x, self.dataset.n_features))

    def predict(self, x: Any) -> np.ndarray:
        """The classifier's classes of samples (N, F) or (N, *image shape) -> (N,) int64."""
        logits = self.classifier.inference(_flat("samples", x, self.dataset.n_features))
        return logits.argmax(axis=1).astype(np.int64)


class GenerationEvaluator:
    """Scores generated samples of ``dataset`` (see the module docstring).

    Image data sets use a cached :class:`FeatureExtractor` (``cache_dir``, ``seed``,
    ``epochs`` and its other settings are passed on); a :class:`RingDataset` uses the points
    and its modes. ``score(samples, requested_labels=None)`` returns a dict with ``n`` (the
    samples compared with as many real test samples), ``frechet``, ``mmd``, ``one_nn``,
    ``classes_covered`` (of ``n_classes``), ``conditional_accuracy`` when labels were
    requested, and for the ring ``modes_covered`` and ``high_quality``.
    """

    def __init__(self, dataset: Dataset, cache_dir: str | os.PathLike | None = None, seed: int = 0,
                 threshold: float = 0.05, **extractor_settings: Any):
        if not isinstance(dataset, Dataset):
            raise InputError(f"dataset must be an accelbrainbase Dataset (e.g. load_digits()), got {dataset!r}")
        self.dataset = dataset
        self.seed = check_positive("seed", seed, integer=True, allow_zero=True)
        self.threshold = check_fraction("threshold", threshold, allow_one=True)
        self.is_ring = getattr(dataset, "centers", None) is not None
        self.extractor = None if self.is_ring else FeatureExtractor(
            dataset, cache_dir=cache_dir, seed=seed, **extractor_settings)
        self.x_test = _flat("x_test", dataset.x_test, dataset.n_features)
        self._test_features = self.features(self.x_test)

    def features(self, x: Any) -> np.ndarray:
        """The feature points of samples: the extractor's, or the raw points for the ring."""
        if self.extractor is not None:
            return self.extractor.features(x)
        return _flat("samples", x, self.dataset.n_features).astype(np.float64)

    def predict(self, x: Any) -> np.ndarray:
        """Predicted classes (N,): the extractor's, or the nearest mode for the ring."""
        if self.extractor is not None:
            return self.extractor.predict(x)
        points = _flat("samples", x, self.dataset.n_features).astype(np.float64)
        centers = np.asarray(self.dataset.centers, dtype=np.float64)
        return ((points[:, None, :] - centers[None]) ** 2).sum(-1).argmin(axis=1).astype(np.int64)

    def score(self, samples: Any, requested_labels: Optional[Sequence[int]] = None) -> Dict[str, Any]:
        """Scores of ``samples`` (N, F) or (N, *image shape) against the real test split."""
        x = _flat("samples", samples, self.dataset.n_features)
        if requested_labels is not None and len(requested_labels) != len(x):
            raise ShapeError(f"requested_labels has {len(requested_labels)} labels but there are {len(x)} "
                             "samples; they must match")
        n = min(len(x), len(self.x_test))
        if n < 2:
            raise InputError(f"scoring needs at least 2 samples, got {len(x)}")
        rng = np.random.default_rng(self.seed)
        real = self._test_features[np.sort(rng.choice(len(self.x_test), n, replace=False))]
        fake = self.features(x)
        compared = fake[np.sort(rng.choice(len(x), n, replace=False))] if n < len(x) else fake
        predicted = self.predict(x)
        coverage = class_coverage(predicted, self.dataset.n_classes, self.threshold)
        scores: Dict[str, Any] = {
            "n": n,
            "frechet": frechet_distance(compared, real),
            "mmd": mmd(compared, real),
            "one_nn": one_nn_accuracy(compared, real),
            "classes_covered": coverage.covered,
            "class_shares": coverage.shares.tolist(),
        }
        if requested_labels is not None:
            scores["conditional_accuracy"] = conditional_accuracy(predicted, requested_labels)
        if self.is_ring:
            modes = mode_coverage(x, self.dataset.centers, self.dataset.std)
            scores.update(modes_covered=modes.covered, high_quality=modes.high_quality)
        return scores

    def floor(self) -> Dict[str, Any]:
        """The real training split scored as if generated (a seeded subset of the test split's
        size, its labels as the requested ones): the best a generator can expect."""
        rng = np.random.default_rng(self.seed + 1)
        pick = np.sort(rng.choice(len(self.dataset.x_train), min(len(self.x_test), len(self.dataset.x_train)),
                                  replace=False))
        return self.score(self.dataset.x_train[pick], requested_labels=self.dataset.y_train[pick])


class GaussianMixturePCA:
    """A classical generator (the baseline row of ``compare generation``): PCA to ``n_codes``
    dimensions (an integer, or a fraction in (0, 1): as many as keep that share of the
    variance; 0.9 gives 21 codes on digits, 84 on MNIST-5k), a scikit-learn ``GaussianMixture``
    of ``n_components`` full-covariance components on the codes (EM; Dempster, Laird & Rubin
    1977), samples decoded by the inverse PCA and clipped to the training data's range.
    Shapes: fit (N, F) or (N, *image) -> generate(n) (n, F)."""

    def __init__(self, n_components: int = 10, n_codes: int | float = 0.9, seed: int = 0):
        self.n_components = check_positive("n_components", n_components, integer=True)
        if isinstance(n_codes, (float, np.floating)):
            if not 0.0 < n_codes < 1.0:
                raise InputError(f"n_codes must be a number of codes or a share of the variance in (0, 1), "
                                 f"got {n_codes!r}")
            self.n_codes = float(n_codes)
        else:
            self.n_codes = check_positive("n_codes", n_codes, integer=True)
        self.seed = check_positive("seed", seed, integer=True, allow_zero=True)
        self.pca_ = self.mixture_ = None

    def fit(self, x: Any) -> "GaussianMixturePCA":
        from sklearn.decomposition import PCA
        from sklearn.mixture import GaussianMixture

        x = check_array("x", x, dtype=np.float32)
        if x.ndim < 2:
            raise ShapeError(f"x must be samples (N, F) or (N, *image shape), got shape {x.shape}")
        x = x.reshape(len(x), -1)
        if len(x) < self.n_components:
            raise InputError(f"fitting {self.n_components} mixture components needs at least as many "
                             f"samples, got {len(x)}")
        codes = self.n_codes if isinstance(self.n_codes, float) else min(self.n_codes, x.shape[1], len(x))
        self.pca_ = PCA(n_components=codes, random_state=self.seed).fit(x)
        self.mixture_ = GaussianMixture(self.n_components, covariance_type="full", random_state=self.seed)
        self.mixture_.fit(self.pca_.transform(x))
        self.low_, self.high_ = float(x.min()), float(x.max())
        return self

    def generate(self, n: int) -> np.ndarray:
        """``n`` samples (n, F), float32, in random order (seeded by ``seed``)."""
        if self.mixture_ is None:
            raise NotFittedError("GaussianMixturePCA.generate needs fit() first")
        n = check_positive("n", n, integer=True)
        m, rng = self.mixture_, np.random.default_rng(self.seed)
        component = rng.choice(len(m.weights_), size=n, p=m.weights_ / m.weights_.sum())
        factors = np.linalg.cholesky(m.covariances_)  # positive definite (reg_covar)
        z = rng.standard_normal((n, m.means_.shape[1]))
        codes = m.means_[component] + np.einsum("nij,nj->ni", factors[component], z)
        x = np.clip(self.pca_.inverse_transform(codes), self.low_, self.high_)
        return x.astype(np.float32)

    @property
    def n_parameters(self) -> int:
        if self.mixture_ is None:
            raise NotFittedError("GaussianMixturePCA has no parameters before fit()")
        m = self.mixture_
        return int(self.pca_.components_.size + self.pca_.mean_.size + m.weights_.size + m.means_.size
                   + m.covariances_.size)
