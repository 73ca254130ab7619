"""The same weights give the same outputs in torch and mxnet for the recurrent models: the fused
LSTMs (torch.nn.LSTM, gluon.rnn.LSTM) share canonical names and gate order (i, f, g/c, o)."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab

pytestmark = pytest.mark.parity


@pytest.fixture
def sequences():
    return np.random.default_rng(0).standard_normal((6, 9, 3)).astype(np.float32)


def transplant(source, target):
    target.import_state(source.export_state())
    return target


@pytest.mark.parametrize("layers", [1, 3])
def test_lstm_parity(both_backends, sequences, layers):
    tb, mb = both_backends
    ab.seed_everything(0)
    config = dict(input_size=3, hidden_size=5, num_layers=layers, output_size=4, output_activation="sigmoid")
    t = tb.LSTMNetworks(**config)
    m = transplant(t, mb.LSTMNetworks(**config))
    assert sorted(t.export_state()) == sorted(m.export_state())
    assert t.n_parameters == m.n_parameters
    np.testing.assert_allclose(t.inference(sequences), m.inference(sequences), atol=1e-5)
    # a permuted gate block changes the output: the shared order is really checked
    state = t.export_state()
    top = f"lstm.weight_ih_l{layers - 1}"
    state[top] = np.concatenate([state[top][5:10], state[top][:5], state[top][10:]])  # swap i and f
    m.import_state(state)
    assert np.abs(t.inference(sequences) - m.inference(sequences)).max() > 1e-3


def test_encoder_decoder_parity(both_backends, sequences):
    tb, mb = both_backends
    ab.seed_everything(0)
    t = tb.EncoderDecoder(3, 6, num_layers=2)
    m = transplant(t, mb.EncoderDecoder(3, 6, num_layers=2))
    for method in ("inference", "reconstruct_teacher_forced", "extract_feature_points"):
        np.testing.assert_allclose(getattr(t, method)(sequences), getattr(m, method)(sequences), atol=1e-5,
                                   err_msg=method)
    m.hybridize(active=False)
    np.testing.assert_allclose(t.inference(sequences), m.inference(sequences), atol=1e-5)


def test_one_teacher_forced_step_matches(both_backends, sequences):
    tb, mb = both_backends
    ab.seed_everything(0)
    spec = ab.OptimizerSpec("sgd", learning_rate=0.5)
    t = tb.EncoderDecoder(3, 4, optimizer=spec)
    m = transplant(t, mb.EncoderDecoder(3, 4, optimizer=spec))
    batch = ab.Batch(sequences, sequences)
    lt, lm = (model.resolve_logs(model.learn_step(batch))["loss"] for model in (t, m))
    assert lt == pytest.approx(lm, rel=1e-5)
    st, sm = t.export_state(), m.export_state()
    for key in st:
        np.testing.assert_allclose(st[key], sm[key], atol=1e-5, err_msg=key)


def test_detector_trained_in_one_backend_scores_in_the_other(both_backends, sequences, tmp_path):
    tb, mb = both_backends
    ab.seed_everything(0)
    normal = np.random.default_rng(1).standard_normal((30, 9, 3)).astype(np.float32)
    detector = tb.EncDecAD(3, 4, epochs=2, batch_size=8)
    detector.fit(normal, progress=False)
    detector.save(tmp_path / "d")
    other = mb.EncDecAD.load(tmp_path / "d")
    np.testing.assert_allclose(detector.score(sequences), other.score(sequences), rtol=1e-4)
    assert other.threshold_ == detector.threshold_
