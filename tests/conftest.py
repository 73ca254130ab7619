"""Fixtures shared by the suite.

``backend`` runs a test once per backend (the mxnet run carries the ``mxnet`` marker, so
``make test`` runs it in .venv-mxnet); a backend whose framework is missing is skipped.
"""
from __future__ import annotations

import numpy as np
import pytest

from accelbrainbase.core.backends import BACKENDS
from accelbrainbase.core.errors import MissingDependencyError


def _backend_or_skip(name):
    from accelbrainbase.core.backends import get_backend

    try:
        return get_backend(name)
    except MissingDependencyError as exc:
        pytest.skip(str(exc).split(".")[0])


def _marks(name):
    return [pytest.mark.mxnet] if name == "mxnet" else []


@pytest.fixture(params=[pytest.param(b, marks=_marks(b)) for b in BACKENDS])
def backend(request):
    """The backend package (``accelbrainbase.torch`` or ``accelbrainbase.mxnet``)."""
    return _backend_or_skip(request.param)


@pytest.fixture
def both_backends():
    """Both backend packages, for parity tests."""
    return _backend_or_skip("torch"), _backend_or_skip("mxnet")


def registered_models(setting):
    """(backend, model name) pairs of the registry, for every backend that imports here."""
    from accelbrainbase.core.backends import get_backend
    from accelbrainbase.core.registry import model_names

    params = []
    for name in BACKENDS:
        try:
            get_backend(name)
        except MissingDependencyError:
            continue
        for model in model_names(setting, name):
            params.append(pytest.param(name, model, marks=_marks(name), id=f"{name}-{model}"))
    return params


@pytest.fixture(scope="session")
def digits():
    from accelbrainbase.data import load_digits

    return load_digits()


@pytest.fixture
def tiny():
    """A small seeded data set: 60 samples, 12 features in [0, 1], 3 classes."""
    rng = np.random.default_rng(0)
    x = rng.random((60, 12)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    return x, y


@pytest.fixture(scope="session")
def digits_evaluator(digits, tmp_path_factory):
    """The generation evaluator of digits with a small feature-extractor CNN (about a second to
    train, test accuracy about 0.95), cached for the session only."""
    from accelbrainbase.workbench.generation_eval import GenerationEvaluator

    return GenerationEvaluator(digits, cache_dir=tmp_path_factory.mktemp("evaluators"), epochs=3,
                               channels=[8, 16], hidden=[32], learning_rate=0.003)
