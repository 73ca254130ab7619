"""LSTM networks, the LSTM encoder-decoder and EncDec-AD, checked against the math (a NumPy
LSTM) and on data: a synthetic periodic series and ECG5000."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models.anomaly import best_fbeta_threshold, roc_auc
from accelbrainbase.data import ArrayIterator


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_lstm(x, state, w, prefix, layers):
    """Torch's LSTM equations, gates stacked i, f, g, o: x (N, T, F) -> (outputs, (h, c))."""
    h, c = (s.copy() for s in state)
    outputs = []
    for t in range(x.shape[1]):
        inp = x[:, t]
        for k in range(layers):
            gates = (inp @ w[f"{prefix}.weight_ih_l{k}"].T + w[f"{prefix}.bias_ih_l{k}"]
                     + h[k] @ w[f"{prefix}.weight_hh_l{k}"].T + w[f"{prefix}.bias_hh_l{k}"])
            i, f, g, o = np.split(gates, 4, axis=1)
            c[k] = sigmoid(f) * c[k] + sigmoid(i) * np.tanh(g)
            h[k] = sigmoid(o) * np.tanh(c[k])
            inp = h[k]
        outputs.append(inp.copy())
    return np.stack(outputs, axis=1), (h, c)


def numpy_encoder_decoder(x, w, layers, hidden, teacher_forcing):
    """Malhotra et al. 2016: x'(T) from the encoder state, then x(i) (or x'(i)) -> x'(i-1)."""
    n = len(x)
    zeros = np.zeros((layers, n, hidden))
    out, state = numpy_lstm(x, (zeros, zeros), w, "encoder", layers)
    dense = lambda hid: hid @ w["output.weight"].T + w["output.bias"]  # noqa: E731
    outputs = [dense(state[0][-1])]
    for i in range(x.shape[1] - 1):
        feed = x[:, x.shape[1] - 1 - i] if teacher_forcing else outputs[-1]
        step, state = numpy_lstm(feed[:, None], state, w, "decoder", layers)
        outputs.append(dense(step[:, 0]))
    return np.stack(outputs, axis=1), out[:, -1]


@pytest.fixture
def sequences():
    return np.random.default_rng(0).standard_normal((5, 7, 3)).astype(np.float32)


def test_lstm_networks_compute_the_lstm_equations(backend, sequences):
    ab.seed_everything(0)
    model = backend.LSTMNetworks(3, 6, num_layers=2, output_size=2, output_activation="tanh")
    w = {k: v.astype(np.float64) for k, v in model.export_state().items()}
    assert w["lstm.weight_ih_l0"].shape == (24, 3) and w["lstm.weight_hh_l1"].shape == (24, 6)
    hidden, _ = numpy_lstm(sequences, (np.zeros((2, 5, 6)),) * 2, w, "lstm", 2)
    expected = np.tanh(hidden @ w["output.weight"].T + w["output.bias"])
    np.testing.assert_allclose(model.inference(sequences), expected, atol=1e-5)
    # any batch size and any length when seq_len is None
    assert model.inference(sequences[:2, :4]).shape == (2, 4, 2)


def test_lstm_networks_learn_a_delayed_copy(backend):
    ab.seed_everything(0)
    x = np.random.default_rng(1).uniform(-1, 1, (256, 8, 1)).astype(np.float32)
    y = np.concatenate([np.zeros_like(x[:, :1]), x[:, :-1]], axis=1)  # y(t) = x(t - 1)
    model = backend.LSTMNetworks(1, 16, output_size=1, optimizer=ab.OptimizerSpec("adam", learning_rate=1e-2))
    model.learn(ArrayIterator(x, y, batch_size=32, epochs=15, seed=0), progress=False)
    assert model.history["train_loss"].iloc[-1] < 0.1 * model.history["train_loss"].iloc[0]
    assert float(np.mean((model.inference(x) - y) ** 2)) < 0.02  # predicting 0 would give ~0.29


def test_lstm_networks_check_their_arguments(backend, sequences):
    with pytest.raises(ab.InputError, match="num_layers=1"):
        backend.LSTMNetworks(3, 4, dropout=0.5)
    with pytest.raises(ab.InputError, match="output_size"):
        backend.LSTMNetworks(3, 4, output_activation="sigmoid")
    with pytest.raises(ab.InputError, match="unknown output_activation 'swish'; valid: identity"):
        backend.LSTMNetworks(3, 4, output_size=2, output_activation="swish")
    model = backend.LSTMNetworks(3, 4, seq_len=7)
    with pytest.raises(ab.ShapeError, match="sequences of length 7, got length 5"):
        model.inference(sequences[:, :5])
    with pytest.raises(ab.ShapeError, match="expected 3, got 2"):
        model.inference(sequences[..., :2])
    with pytest.raises(ab.ShapeError, match="3 dimensions"):
        model.inference(sequences[:, 0])
    with pytest.raises(ab.InputError, match="labelled data"):
        model.learn(ArrayIterator(sequences, batch_size=2, epochs=1), progress=False)


@pytest.mark.parametrize("layers", [1, 2])
def test_decoder_reconstructs_in_reverse_order(backend, sequences, layers):
    """x'(T) comes from the encoder's final state; then x(i) (teacher forcing) or x'(i)
    (inference) gives x'(i-1): the decoder's outputs are the input reversed."""
    ab.seed_everything(0)
    model = backend.EncoderDecoder(3, 5, num_layers=layers)
    w = {k: v.astype(np.float64) for k, v in model.export_state().items()}
    forced, code = numpy_encoder_decoder(sequences, w, layers, 5, teacher_forcing=True)
    free, _ = numpy_encoder_decoder(sequences, w, layers, 5, teacher_forcing=False)
    np.testing.assert_allclose(model.reconstruct_teacher_forced(sequences), forced, atol=1e-5)
    np.testing.assert_allclose(model.reconstruct_reversed(sequences), free, atol=1e-5)
    np.testing.assert_allclose(model.inference(sequences), free[:, ::-1], atol=1e-5)
    np.testing.assert_allclose(model.extract_feature_points(sequences), code, atol=1e-5)
    # the first decoder output depends on nothing but the encoder's state
    assert not np.allclose(forced[:, 1:], free[:, 1:], atol=1e-6)
    np.testing.assert_allclose(forced[:, 0], free[:, 0], atol=1e-6)


def test_encoder_decoder_learns_to_reconstruct_in_order(backend):
    """Trained against the reversed input, ``inference`` reconstructs the input in order."""
    ab.seed_everything(0)
    t = np.arange(6)
    rng = np.random.default_rng(0)
    x = np.sin(0.7 * t[None, :, None] + rng.uniform(0, 6.3, (300, 1, 2))).astype(np.float32)
    model = backend.EncoderDecoder(2, 16, optimizer=ab.OptimizerSpec("adam", learning_rate=1e-2))
    model.learn(ArrayIterator(x, batch_size=32, epochs=25, seed=0), progress=False)
    out = model.inference(x)
    mse, reversed_mse = np.mean((out - x) ** 2), np.mean((out[:, ::-1] - x) ** 2)
    assert mse < 0.05 < reversed_mse


def test_teacher_forcing_is_checked_and_scheduled(backend, sequences):
    with pytest.raises(ab.InputError, match="teacher_forcing must be <= 1"):
        backend.EncoderDecoder(3, 4, teacher_forcing=1.5)
    ab.seed_everything(0)
    free = backend.EncoderDecoder(3, 4, teacher_forcing=0.0)
    loss, _ = free.batch_loss(ab.Batch(*(free._tensor(sequences),) * 2))
    expected = np.mean((free.reconstruct_reversed(sequences) - sequences[:, ::-1]) ** 2)
    value = float(loss.asscalar()) if hasattr(loss, "asscalar") else loss.item()
    assert value == pytest.approx(expected, rel=1e-4)


def test_encdec_ad_finds_injected_anomalies(backend):
    """A periodic series with injected spikes, shifts, freezes and frequency changes."""
    from accelbrainbase.data import load_synthetic

    ds = load_synthetic()
    ab.seed_everything(0)
    detector = backend.EncDecAD(1, 16, epochs=20, batch_size=16, optimizer=ab.OptimizerSpec("adam", learning_rate=5e-3))
    detector.fit(ds.x_train, ds.x_validation, ds.y_validation, normal_validation=ds.x_normal_validation,
                 progress=False)
    assert roc_auc(detector.score(ds.x_test), ds.y_test) >= 0.95
    # the threshold is the F0.1-optimal one on the validation windows
    chosen = best_fbeta_threshold(detector.score(ds.x_validation), ds.y_validation, 0.1)
    assert detector.threshold_ == pytest.approx(chosen["threshold"])
    # per-point labels choose the threshold on point scores
    points = detector.score_points(ds.x_test)
    point_auc = roc_auc(points.ravel(), ds.y_test_points.ravel())
    assert point_auc > 0.8, point_auc
    predicted = detector.predict(ds.x_test)
    assert predicted[ds.y_test == 1].mean() > predicted[ds.y_test == 0].mean()


def test_encdec_ad_beats_pca_on_ecg5000(backend):
    """Normal vs abnormal heartbeats; PCA with as many components as the LSTM code."""
    from accelbrainbase.data import load_ecg5000
    from accelbrainbase.workbench import anomaly

    ds = load_ecg5000()
    backend_name = backend.__name__.split(".")[-1]
    row = anomaly.run_model(backend.EncDecAD, backend_name, ds, epochs=40, seed=0, progress=False)
    pca = anomaly.baselines(ds)[0]
    assert pca["model"] == "PCA(32) error"
    assert row["test_roc_auc"] >= 0.95
    assert row["test_roc_auc"] > pca["test_roc_auc"]
    assert row["precision"] > 0.9 and row["f0.1"] > 0.9


def test_encdec_ad_point_labels_and_fallback_threshold(backend):
    rng = np.random.default_rng(0)
    from accelbrainbase.models.recurrent import example_sequences

    x = example_sequences(rng, 60, 2, 6)
    validation = x[40:].copy()
    points = np.zeros(validation.shape[:2], dtype=np.int64)
    points[::2, 3] = 1
    validation[points == 1] += 1.0
    ab.seed_everything(0)
    detector = backend.EncDecAD(2, 8, epochs=2, batch_size=16)
    detector.fit(x[:40], validation, points, progress=False)
    chosen = best_fbeta_threshold(detector.score_points(validation), points, 0.1)
    assert detector.threshold_ == pytest.approx(chosen["threshold"])
    assert detector.predict_points(validation).shape == points.shape
    detector.fit(x[:40], progress=False)  # no labelled validation: the highest normal score
    assert detector.predict(x[:40]).mean() < 0.5
    with pytest.raises(ab.InputError, match="covariance='full'.*at least two features, got 1"):
        backend.EncDecAD(1, 4, epochs=1, covariance="full").fit(x[:40, :, :1], progress=False)
