"""Configuration as plain data, safe class resolution, cross-backend loading, lazy imports,
the registry, seeding and device names (core/config.py, persistence.py, backends.py,
registry.py, seeding.py, devices.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.config import from_plain, resolve_class, to_plain
from accelbrainbase.core.devices import Device, parse_device
from accelbrainbase.core.registry import SETTINGS, model_names, models
from accelbrainbase.data import ArrayIterator, GaussianNoise

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _round_trip(model):
    text = json.dumps(to_plain(model))
    rebuilt = from_plain(json.loads(text))
    assert type(rebuilt) is type(model)
    assert rebuilt.get_config() == model.get_config()
    return rebuilt


# -- config round trips --------------------------------------------------------------------------------
def test_autoencoder_config_round_trip(backend):
    spec = ab.OptimizerSpec("sgd", learning_rate=0.05, decay_rate=0.5, decay_every=3)
    model = backend.AutoEncoder.dense([12, 6, 3], activation="tanh", output_activation="identity",
                                      optimizer=spec, loss="mae")
    rebuilt = _round_trip(model)
    config = rebuilt.get_config()
    assert config["loss"] == "mae"
    assert config["optimizer"]["config"]["decay_every"] == 3
    assert config["encoder"]["config"]["units"] == [12, 6, 3]
    assert config["decoder"]["config"]["units"] == [3, 6, 12]
    assert rebuilt.optimizer_spec.learning_rate_at(3) == pytest.approx(0.025)
    assert rebuilt.encoder.hidden_activations == ["tanh"]


def test_clone_keeps_hyper_parameters_not_weights(backend, tiny):
    spec = ab.OptimizerSpec("sgd", learning_rate=0.05, decay_rate=0.5, decay_every=3)
    model = backend.NeuralNetworks([12, 6, 3], optimizer=spec, loss="mae")
    model.learn(ArrayIterator(tiny[0], tiny[0][:, :3], batch_size=16, epochs=1), progress=False)
    twin = model.clone(loss="mse")
    assert type(twin) is type(model) and twin.optimizer_spec.learning_rate_at(3) == pytest.approx(0.025)
    assert twin.get_config() == {**model.get_config(), "loss": "mse"}
    assert len(twin.history) == 0
    assert not all(np.array_equal(a, twin.export_state()[k]) for k, a in model.export_state().items())
    with pytest.raises(ab.InputError, match="no hyper-parameter colour; valid: units"):
        model.clone(colour="red")


def test_neural_networks_config_round_trip(backend):
    model = backend.NeuralNetworks([12, 8, 5, 3], activation=["relu", "elu"], dropout=[0.1, 0.2],
                                   batch_norm=True, loss="cross_entropy", optimizer="rmsprop")
    rebuilt = _round_trip(model)
    assert rebuilt.units == [12, 8, 5, 3]
    assert rebuilt.dropouts == [0.1, 0.2]
    assert rebuilt.batch_norm is True
    assert rebuilt.optimizer_spec.name == "rmsprop"


def test_denoising_autoencoder_config_round_trip(backend):
    noise = GaussianNoise(std=0.3, clip=(0.0, 1.0), seed=5)
    model = backend.DenoisingAutoEncoder.dense([12, 6, 3], noise=noise)
    rebuilt = _round_trip(model)
    assert type(rebuilt.noise) is GaussianNoise
    assert rebuilt.noise.get_config() == noise.get_config()
    assert rebuilt.get_config()["noise"]["config"]["std"] == 0.3
    x = np.full((4, 12), 0.5, dtype=np.float32)
    np.testing.assert_array_equal(rebuilt.noise.noise(x), GaussianNoise(std=0.3, clip=(0.0, 1.0), seed=5).noise(x))


def test_stacked_autoencoder_config_round_trip(backend):
    model = backend.StackedAutoEncoder([12, 8, 4], activation="sigmoid", pretrain_epochs=3,
                                       optimizer=ab.OptimizerSpec("adam", learning_rate=0.002))
    rebuilt = _round_trip(model)
    config = rebuilt.get_config()
    assert "encoder" not in config and "decoder" not in config
    assert config["units"] == [12, 8, 4] and config["pretrain_epochs"] == 3
    assert rebuilt.encoder.units == [12, 8, 4]


def test_learned_state_is_not_part_of_the_config(backend, tiny):
    x, _ = tiny
    ab.seed_everything(0)
    model = backend.AutoEncoder.dense([12, 6, 3])
    config = model.get_config()
    model.learn(ArrayIterator(x, batch_size=16, epochs=1, seed=0), progress=False)
    assert model.get_config() == config


def test_unsavable_hyper_parameter_is_an_input_error():
    with pytest.raises(ab.InputError, match="cannot be saved"):
        to_plain({"fn": object()})


# -- safe class resolution -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["os:system", "builtins:eval", "subprocess:Popen",
                                  "accelbrainbase_evil:Model", "accelbrainbase.core.config:resolve_class",
                                  "accelbrainbase.core.config:np", "accelbrainbase.core.optim:",
                                  "accelbrainbase.core.nothere:Model",
                                  "accelbrainbase.core.optim:OptimizerSpec.__init__"])
def test_resolve_class_refuses_anything_outside_the_package(path):
    with pytest.raises(ab.InputError):
        resolve_class(path)


def test_resolve_class_finds_package_classes():
    assert resolve_class("accelbrainbase.core.optim:OptimizerSpec") is ab.OptimizerSpec
    assert resolve_class("accelbrainbase.data.noise:GaussianNoise") is GaussianNoise


def test_from_plain_refuses_foreign_classes():
    with pytest.raises(ab.InputError, match="refusing"):
        from_plain({"class": "os:system", "config": {"command": "echo hacked"}})


def _save(backend, tmp_path, tiny):
    ab.seed_everything(0)
    model = backend.AutoEncoder.dense([12, 6, 3])
    model.learn(ArrayIterator(tiny[0], batch_size=16, epochs=1, seed=0), progress=False)
    directory = str(tmp_path / "m")
    model.save(directory)
    return model, directory


def _tamper(directory, edit):
    path = os.path.join(directory, "model.json")
    with open(path) as handle:
        manifest = json.load(handle)
    edit(manifest)
    with open(path, "w") as handle:
        json.dump(manifest, handle)


@pytest.mark.parametrize("evil", ["os:system", "builtins:eval", "subprocess:Popen"])
def test_tampered_manifest_class_fails_to_load(backend, tiny, tmp_path, evil):
    model, directory = _save(backend, tmp_path, tiny)
    _tamper(directory, lambda m: m.update({"class": evil}))
    with pytest.raises(ab.InputError, match="refusing"):
        ab.load(directory)


def test_tampered_nested_component_fails_to_load(backend, tiny, tmp_path):
    model, directory = _save(backend, tmp_path, tiny)
    _tamper(directory, lambda m: m["config"]["encoder"].update({"class": "builtins:eval"}))
    with pytest.raises(ab.InputError, match="refusing"):
        ab.load(directory)


def test_loading_a_missing_or_foreign_format_is_an_input_error(backend, tiny, tmp_path):
    with pytest.raises(ab.InputError, match="missing model.json"):
        ab.load(str(tmp_path / "nothing"))
    model, directory = _save(backend, tmp_path, tiny)
    _tamper(directory, lambda m: m.update({"format": 99}))
    with pytest.raises(ab.InputError, match="format 99"):
        ab.load(directory)


def test_unknown_backend_is_an_input_error_listing_the_valid_ones(backend, tiny, tmp_path):
    model, directory = _save(backend, tmp_path, tiny)
    with pytest.raises(ab.InputError, match=r"unknown backend 'jax'; valid: torch, mxnet"):
        ab.load(directory, backend="jax")
    _tamper(directory, lambda m: m.update({"class": m["class"].replace(backend.__name__, "accelbrainbase.jax")}))
    with pytest.raises(ab.InputError, match=r"there is no accelbrainbase\.jax \(valid backends: torch, mxnet\)"):
        ab.load(directory)


def test_a_corrupt_weights_file_is_an_input_error_naming_it(backend, tiny, tmp_path):
    model, directory = _save(backend, tmp_path, tiny)
    weights = next(n for n in os.listdir(directory) if n.endswith(".safetensors"))
    with open(os.path.join(directory, weights), "r+b") as handle:
        handle.write(b"\xff" * 16)  # the header length becomes absurd
    with pytest.raises(ab.InputError, match=f"weights file .*{weights}"):
        ab.load(directory)


def test_class_load_checks_the_class(backend, tiny, tmp_path):
    model, directory = _save(backend, tmp_path, tiny)
    loaded = backend.AutoEncoder.load(directory)
    np.testing.assert_array_equal(loaded.inference(tiny[0]), model.inference(tiny[0]))
    with pytest.raises(ab.InputError, match="not a NeuralNetworks"):
        backend.NeuralNetworks.load(directory)


# -- cross-backend loading -----------------------------------------------------------------------------
@pytest.mark.parity
def test_torch_saved_model_loads_in_mxnet(both_backends, tiny, tmp_path):
    torch_backend, mxnet_backend = both_backends
    x, _ = tiny
    ab.seed_everything(0)
    model = torch_backend.AutoEncoder.dense([12, 6, 3], activation="tanh")
    model.learn(ArrayIterator(x, batch_size=16, epochs=2, seed=0), progress=False)
    model.save(tmp_path / "m")
    loaded = ab.load(tmp_path / "m", backend="mxnet")
    assert type(loaded) is mxnet_backend.AutoEncoder
    assert type(loaded.encoder) is mxnet_backend.NeuralNetworks
    assert len(loaded.history) == 2
    np.testing.assert_allclose(loaded.inference(x), model.inference(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.extract_feature_points(x), model.extract_feature_points(x),
                               rtol=1e-5, atol=1e-6)
    # and back again
    loaded.save(tmp_path / "back")
    again = ab.load(tmp_path / "back", backend="torch")
    assert type(again) is torch_backend.AutoEncoder
    np.testing.assert_allclose(again.inference(x), model.inference(x), rtol=1e-5, atol=1e-6)


# -- lazy imports and missing frameworks ---------------------------------------------------------------
def _python(code, extra_path=()):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([REPO_ROOT, *extra_path, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_import_does_not_import_a_framework():
    result = _python(
        "import accelbrainbase, accelbrainbase.data, accelbrainbase.core.learner, sys\n"
        "bad = [m for m in ('torch', 'mxnet') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("name", ["torch", "mxnet"])
def test_missing_framework_names_the_extra(name):
    result = _python(
        "import sys\n"
        f"sys.modules[{name!r}] = None  # import {name} now raises ImportError\n"
        "from accelbrainbase.core.errors import MissingDependencyError\n"
        "try:\n"
        f"    import accelbrainbase.{name}\n"
        "except MissingDependencyError as exc:\n"
        "    assert isinstance(exc, ImportError)\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('no error')\n"
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "pip install" in result.stdout
    assert f"accelbrainbase[{name}]" in result.stdout


def test_require_framework_in_process(monkeypatch):
    from accelbrainbase.core import backends

    def missing(name, *args, **kwargs):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(backends.importlib, "import_module", missing)
    with pytest.raises(ab.MissingDependencyError, match="pip install"):
        backends.require_framework("mxnet")
    assert backends.available_backends() == ()


# -- registry ------------------------------------------------------------------------------------------
def test_registry_lists_the_representation_models(backend):
    name = backend.__name__.split(".")[1]
    found = models("representation", name)
    assert {"AutoEncoder", "DenoisingAutoEncoder", "StackedAutoEncoder"} <= set(found)
    assert found["AutoEncoder"] is backend.AutoEncoder
    assert "NeuralNetworks" not in found
    assert model_names("representation", name) == sorted(found)


def test_registry_unknown_setting_or_backend():
    with pytest.raises(ab.InputError, match="unknown problem setting 'control'") as info:
        models("control", "torch")
    for setting in SETTINGS:
        assert setting in str(info.value)
    with pytest.raises(ab.InputError, match="valid: torch, mxnet"):
        models("representation", "jax")


# -- seeding -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [-1, 2**32, 1.0, "1", None, True])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        ab.seed_everything(seed)


def test_seed_everything_makes_numpy_reproducible():
    assert ab.seed_everything(np.int64(3)) == 3
    first = np.random.rand(3)
    ab.seed_everything(3)
    np.testing.assert_array_equal(np.random.rand(3), first)
    assert ab.seed_everything(2**32 - 1) == 2**32 - 1


def test_seed_everything_makes_model_init_reproducible(backend):
    ab.seed_everything(11)
    a = backend.AutoEncoder.dense([12, 6, 3]).export_state()
    ab.seed_everything(11)
    b = backend.AutoEncoder.dense([12, 6, 3]).export_state()
    ab.seed_everything(12)
    c = backend.AutoEncoder.dense([12, 6, 3]).export_state()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[k], c[k]) for k in a)


# -- devices -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("cpu", Device("cpu", 0)), ("cpu:0", Device("cpu", 0)), ("cuda", Device("cuda", 0)),
    ("cuda:1", Device("cuda", 1)), (" CUDA:0 ", Device("cuda", 0)), ("Cpu", Device("cpu", 0)),
])
def test_parse_device_accepts(text, expected):
    assert parse_device(text) == expected


@pytest.mark.parametrize("text", ["gpu", "cpu:1", "cuda:x", "cuda:", "cuda:-1", "tpu", "", "cuda:0:1",
                                  "cuda 0", None, 0])
def test_parse_device_rejects(text):
    with pytest.raises(ab.InputError, match="unknown device"):
        parse_device(text)


def test_device_str():
    assert str(parse_device("cuda")) == "cuda:0"
    assert str(parse_device("cpu:0")) == "cpu"
