"""Dense models against their definitions, and learning on real held-out digits."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models.networks import ACTIVATIONS
from accelbrainbase.data import ArrayIterator, GaussianNoise, MaskingNoise


def test_mlp_is_the_composition_of_its_layers(backend, tiny):
    ab.seed_everything(0)
    net = backend.NeuralNetworks([12, 8, 5, 3], activation=["tanh", "relu"], output_activation="sigmoid")
    s = net.export_state()
    x = tiny[0][:6]
    h = np.tanh(x @ s["layers.0.weight"].T + s["layers.0.bias"])
    h = np.maximum(h @ s["layers.1.weight"].T + s["layers.1.bias"], 0)
    expected = 1 / (1 + np.exp(-(h @ s["layers.2.weight"].T + s["layers.2.bias"])))
    np.testing.assert_allclose(net.inference(x), expected, rtol=1e-5, atol=1e-6)


def test_tied_decoder_uses_the_transposed_encoder_weights(backend, tiny):
    ab.seed_everything(0)
    ae = backend.AutoEncoder.dense([12, 6, 3], tied_weights=True, code_activation="identity")
    s = ae.export_state()
    assert "decoder.layers.0.weight" not in s and "decoder.layers.0.bias" in s
    x = tiny[0][:5]
    h = np.maximum(x @ s["encoder.layers.0.weight"].T + s["encoder.layers.0.bias"], 0)
    code = h @ s["encoder.layers.1.weight"].T + s["encoder.layers.1.bias"]
    h = np.maximum(code @ s["encoder.layers.1.weight"] + s["decoder.layers.0.bias"], 0)
    out = 1 / (1 + np.exp(-(h @ s["encoder.layers.0.weight"] + s["decoder.layers.1.bias"])))
    np.testing.assert_allclose(ae.inference(x), out, rtol=1e-5, atol=1e-6)
    assert ae.n_parameters == 12 * 6 + 6 * 3 + 6 + 3 + 6 + 12
    ae.learn(ArrayIterator(tiny[0], batch_size=16, epochs=2), progress=False)
    s2 = ae.export_state()  # learning updates the one shared matrix
    assert not np.allclose(s2["encoder.layers.0.weight"], s["encoder.layers.0.weight"])


def test_batch_norm_and_dropout_switch_with_the_mode(backend, tiny):
    ab.seed_everything(0)
    net = backend.NeuralNetworks([12, 16, 3], batch_norm=True, dropout=0.5)
    x = tiny[0]
    first, second = net.inference(x), net.inference(x)
    np.testing.assert_array_equal(first, second)  # inference: no dropout, running statistics
    state = net.export_state()
    assert {"norms.0.weight", "norms.0.bias", "norms.0.running_mean", "norms.0.running_var"} <= set(state)
    net.learn(ArrayIterator(x, tiny[1].astype(np.float32).reshape(-1, 1).repeat(3, 1), batch_size=20,
                            epochs=1), progress=False)
    assert not np.allclose(net.export_state()["norms.0.running_mean"], 0)  # statistics were tracked


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_builds_and_learns(backend, tiny, activation):
    ab.seed_everything(0)
    net = backend.NeuralNetworks([12, 8, 3], activation=activation, loss="cross_entropy")
    net.learn(ArrayIterator(*tiny, batch_size=20, epochs=2), progress=False)
    assert np.isfinite(net.history["train_loss"]).all()


def test_max_norm_bounds_every_unit(backend, tiny):
    ab.seed_everything(0)
    net = backend.NeuralNetworks([12, 32, 3], loss="cross_entropy", regularizers=[backend.MaxNorm(0.5)],
                                 optimizer=ab.OptimizerSpec("sgd", learning_rate=1.0))
    net.learn(ArrayIterator(*tiny, batch_size=10, epochs=3), progress=False)
    for name, w in net.export_state().items():
        if name.endswith("weight"):
            assert np.linalg.norm(w, axis=1).max() <= 0.5 + 1e-5
    with pytest.raises(ab.InputError, match="max_norm"):
        backend.MaxNorm(-1.0)


def test_classifier_reaches_high_accuracy_on_digits(backend, digits):
    ab.seed_everything(0)
    net = backend.NeuralNetworks([64, 64, 10], loss="cross_entropy", dropout=0.1)
    net.learn(digits.iterator(batch_size=32, epochs=15, seed=0), progress=False)
    accuracy = (net.inference(digits.x_test).argmax(1) == digits.y_test).mean()
    assert accuracy >= 0.95
    assert net.history["test_accuracy"].iloc[-1] == pytest.approx(accuracy, abs=1e-6)


def test_autoencoder_halves_the_mean_image_error_on_digits(backend, digits):
    ab.seed_everything(0)
    ae = backend.AutoEncoder.example(64, code_size=16)
    ae.learn(digits.iterator(batch_size=32, epochs=15, seed=0, labels=False), progress=False)
    mse = np.mean((ae.inference(digits.x_test) - digits.x_test) ** 2)
    mean_image = np.mean((digits.x_train.mean(0) - digits.x_test) ** 2)
    assert mse <= 0.5 * mean_image
    assert ae.extract_feature_points(digits.x_test).shape == (360, 16)


@pytest.mark.parametrize("noise", [MaskingNoise(0.3, seed=1), GaussianNoise(0.2, seed=1)],
                         ids=["masking", "gaussian"])
def test_denoising_beats_the_identity_map_of_the_noisy_input(backend, digits, noise):
    """Noisy input, clean target: reconstructions of noisy test digits are closer to the clean
    digits than the noisy inputs themselves are."""
    ab.seed_everything(0)
    dae = backend.DenoisingAutoEncoder.example(64, code_size=32, noise=noise)
    dae.learn(digits.iterator(batch_size=32, epochs=15, seed=0, labels=False), progress=False)
    noisy = noise.noise(digits.x_test)
    identity = np.mean((noisy - digits.x_test) ** 2)
    denoised = np.mean((dae.inference(noisy) - digits.x_test) ** 2)
    assert denoised < 0.6 * identity
    with pytest.raises(ab.InputError, match="noise"):
        dae.learn(digits.iterator(epochs=1, noiseable_data=noise, labels=False), progress=False)


def test_iterator_noise_makes_any_autoencoder_denoising(backend, digits):
    ab.seed_everything(0)
    noise = MaskingNoise(0.3, seed=2)
    ae = backend.AutoEncoder.example(64, code_size=32)
    ae.learn(digits.iterator(batch_size=32, epochs=15, seed=0, noiseable_data=noise, labels=False),
             progress=False)
    noisy = noise.noise(digits.x_test)
    assert np.mean((ae.inference(noisy) - digits.x_test) ** 2) < 0.6 * np.mean((noisy - digits.x_test) ** 2)


def test_stacked_pretraining_then_fine_tuning(backend, digits):
    """Greedy pre-training gives a far better start than random weights with the same
    fine-tuning budget (2 epochs)."""
    def fine_tuned(model):
        model.learn(digits.iterator(batch_size=32, epochs=2, seed=0, labels=False), progress=False)
        return np.mean((model.inference(digits.x_test) - digits.x_test) ** 2)

    ab.seed_everything(0)
    sae = backend.StackedAutoEncoder([64, 32, 16], pretrain_epochs=10)
    before = sae.export_state()
    pretrained = fine_tuned(sae)
    assert len(sae.pretrain_histories_) == 2  # one shallow auto-encoder per layer
    for history in sae.pretrain_histories_:
        assert len(history) == 10 and history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    ab.seed_everything(0)
    scratch = fine_tuned(backend.AutoEncoder.dense([64, 32, 16]))
    mean_image = np.mean((digits.x_train.mean(0) - digits.x_test) ** 2)
    assert pretrained < 0.5 * mean_image
    assert pretrained < 0.6 * scratch
    assert not np.allclose(before["decoder.layers.1.weight"], sae.export_state()["decoder.layers.1.weight"])
    sae.learn(digits.iterator(batch_size=32, epochs=1, seed=0, labels=False), progress=False)
    assert len(sae.pretrain_histories_) == 2  # a second learn() only fine-tunes


def test_bad_hyper_parameters_are_clear_errors(backend):
    with pytest.raises(ab.InputError, match="unknown activation"):
        backend.NeuralNetworks([4, 3, 2], activation="swishy")
    with pytest.raises(ab.InputError, match="unknown optimizer 'adamm'; valid: sgd"):
        backend.NeuralNetworks([4, 2], optimizer="adamm")
    with pytest.raises(ab.InputError, match="unknown loss"):
        backend.NeuralNetworks([4, 2], loss="hinge-ish")
    with pytest.raises(ab.InputError, match="2 entries but the network has 1 hidden"):
        backend.NeuralNetworks([4, 3, 2], dropout=[0.1, 0.2])
    with pytest.raises(ab.InputError, match="dropout"):
        backend.NeuralNetworks([4, 3, 2], dropout=1.5)
    with pytest.raises(ab.InputError, match="units"):
        backend.NeuralNetworks([4])
    enc = backend.NeuralNetworks([6, 3])
    with pytest.raises(ab.ShapeError, match="decoder"):
        backend.AutoEncoder(enc, backend.NeuralNetworks([4, 6]))
    with pytest.raises(ab.InputError, match="mirrored"):
        backend.AutoEncoder(enc, backend.NeuralNetworks([3, 5, 6]), tied_weights=True)


def test_labels_must_match_samples():
    x = np.zeros((10, 4), dtype=np.float32)
    with pytest.raises(ab.ShapeError, match="9 samples but x has 10|10"):
        ArrayIterator(x, np.zeros(9, dtype=np.int64))
