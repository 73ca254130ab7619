"""Variational auto-encoder (Kingma & Welling 2014) against the math (closed-form and Monte-Carlo
KL, both likelihoods by hand in NumPy), on real data (digits, the test-split ELBO), and its
checks; both backends."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.data import load_digits
from accelbrainbase.models.variational import gaussian_kl


def to_numpy(value):
    return value.asnumpy() if hasattr(value, "asnumpy") else value.detach().cpu().numpy()


def relu(v):
    return np.maximum(v, 0.0)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def dense_forward(state, prefix, x, output):
    """A NeuralNetworks forward pass by hand from its exported weights (relu hidden layers)."""
    n = len([k for k in state if k.startswith(prefix) and k.endswith(".weight")])
    for i in range(n):
        x = x @ state[f"{prefix}.layers.{i}.weight"].T.astype(np.float64) + state[f"{prefix}.layers.{i}.bias"]
        x = relu(x) if i < n - 1 else output(x)
    return x


def closed_form_kl(mean, log_variance):
    return 0.5 * (np.exp(log_variance) + mean ** 2 - 1.0 - log_variance).sum(axis=1)


def batch_terms(model, x, eps):
    """The model's loss and logged metrics for ``x`` with the fixed noise ``eps`` (NumPy floats)."""
    batch = ab.Batch(model._tensor(x), model._tensor(x))
    loss, metrics = model.batch_loss(batch, eps=model._tensor(eps))
    return float(to_numpy(loss).sum()), {k: float(to_numpy(v).sum()) for k, v in metrics.items()}


# -- the KL term ----------------------------------------------------------------------------------
def test_kl_is_its_closed_form_and_the_monte_carlo_estimate(backend):
    model = backend.VariationalAutoEncoder.example(12, code_size=4, hidden=(8,))
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(3, 4)).astype(np.float32)
    log_variance = rng.normal(scale=0.7, size=(3, 4)).astype(np.float32)
    got = to_numpy(gaussian_kl(model.ops, model._tensor(mean), model._tensor(log_variance)))
    expected = closed_form_kl(mean.astype(np.float64), log_variance.astype(np.float64))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    std = np.exp(0.5 * log_variance)
    if backend.__name__.endswith("torch"):  # and against torch.distributions
        import torch
        from torch.distributions import Normal, kl_divergence

        reference = kl_divergence(Normal(torch.tensor(mean), torch.tensor(std)), Normal(0.0, 1.0)).sum(-1)
        np.testing.assert_allclose(got, reference.numpy(), rtol=1e-5)
    # E_q[log q(z) - log p(z)] by 200,000 draws of z ~ q (the normalising constants cancel)
    z = mean + std * rng.standard_normal((200_000, 3, 4))
    log_ratio = (-0.5 * ((z - mean) / std) ** 2 - np.log(std) + 0.5 * z ** 2).sum(axis=2)
    np.testing.assert_allclose(got, log_ratio.mean(axis=0), rtol=0.02, atol=0.01)
    assert expected.min() > 0  # a posterior other than the prior costs nats


def test_logged_kl_uses_the_encoders_two_halves(backend):
    ab.seed_everything(0)
    model = backend.VariationalAutoEncoder.example(12, code_size=4, hidden=(8,))
    x = np.random.default_rng(0).random((5, 12)).astype(np.float32)
    mean, log_variance = model.posterior(x)
    h = model.apply_numpy(model.encoder, x)
    np.testing.assert_array_equal(mean, h[:, :4])
    np.testing.assert_array_equal(log_variance, h[:, 4:])
    np.testing.assert_array_equal(model.extract_feature_points(x), mean)
    _, metrics = batch_terms(model, x, np.zeros((5, 4), dtype=np.float32))
    assert metrics["kl"] == pytest.approx(closed_form_kl(mean, log_variance).mean(), rel=1e-5)


# -- the reconstruction term and the ELBO ---------------------------------------------------------
@pytest.mark.parametrize("reconstruction", ["bernoulli", "gaussian"])
def test_loss_is_the_negative_elbo_computed_by_hand(backend, reconstruction):
    """Fixed weights and eps: -log p(x|z) (summed over the 12 values) + kl_weight * KL, batch mean."""
    ab.seed_everything(0)
    model = backend.VariationalAutoEncoder.example(
        12, code_size=3, hidden=(8,), reconstruction=reconstruction, kl_weight=0.5, observation_std=0.3)
    rng = np.random.default_rng(1)
    x = rng.random((6, 12)).astype(np.float32)
    eps = rng.standard_normal((6, 3)).astype(np.float32)
    state = model.export_state()
    h = dense_forward(state, "encoder", x.astype(np.float64), lambda v: v)
    mean, log_variance = h[:, :3], h[:, 3:]
    z = mean + np.exp(0.5 * log_variance) * eps
    if reconstruction == "bernoulli":
        p = dense_forward(state, "decoder", z, sigmoid)
        nll = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    else:
        m = dense_forward(state, "decoder", z, lambda v: v)
        nll = (0.5 * ((x - m) / 0.3) ** 2 + np.log(0.3) + 0.5 * np.log(2 * np.pi)).sum(axis=1)
    kl = closed_form_kl(mean, log_variance)
    loss, metrics = batch_terms(model, x, eps)
    assert metrics["reconstruction"] == pytest.approx(nll.mean(), rel=1e-4)
    assert metrics["kl"] == pytest.approx(kl.mean(), rel=1e-4)
    assert metrics["elbo"] == pytest.approx(-(nll + kl).mean(), rel=1e-4)  # the ELBO has KL weight 1
    assert loss == pytest.approx((nll + 0.5 * kl).mean(), rel=1e-4)
    # elbo(x, seed) draws eps from NumPy's default_rng(seed) and averages the draws per sample
    draws = np.random.default_rng(5).standard_normal((2, 6, 3)).astype(np.float32)
    per_draw = []
    for d in draws:
        _, m_d = batch_terms(model, x[:1], d[:1])
        per_draw.append(m_d["elbo"])
    np.testing.assert_allclose(model.elbo(x, samples=2, seed=5)[0], np.mean(per_draw), rtol=1e-5)
    assert model.elbo(x, seed=5).shape == (6,)


def test_inference_decodes_the_mean_code(backend):
    ab.seed_everything(0)
    model = backend.ConvolutionalVariationalAutoEncoder.example(12, code_size=4, hidden=(3,))
    x = np.random.default_rng(0).random((5, 12)).astype(np.float32)
    out = model.inference(x)
    np.testing.assert_array_equal(out, model.inference(x))  # deterministic
    decoded = model.apply_numpy(model.decoder, model.extract_feature_points(x))
    np.testing.assert_allclose(out, decoded, rtol=1e-6, atol=1e-7)


# -- generation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["VariationalAutoEncoder", "ConvolutionalVariationalAutoEncoder"])
def test_generate_shapes_range_and_seed(backend, name):
    ab.seed_everything(0)
    cls = getattr(backend, name)
    assert cls.conditional is False
    model = cls.example(12, code_size=4, hidden=(8,))
    samples = model.generate(7, seed=3)
    assert samples.shape == (7, 12) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0  # Bernoulli means
    np.testing.assert_array_equal(samples, model.generate(7, seed=3))
    z = np.random.default_rng(3).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_allclose(samples, model.apply_numpy(model.decoder, z), rtol=1e-6)
    assert not np.array_equal(samples, model.generate(7, seed=4))
    gaussian = cls.example(12, code_size=4, hidden=(8,), reconstruction="gaussian")
    assert gaussian.generate(3, seed=0).shape == (3, 12)
    images = cls.convolutional((1, 4, 6), channels=(2,), code_size=3, flat=False) if "Conv" in name else None
    if images is not None:
        assert images.generate(2, seed=0).shape == (2, 1, 4, 6)
        assert images.inference(np.zeros((2, 1, 4, 6), np.float32)).shape == (2, 1, 4, 6)


# -- learning on real data ----------------------------------------------------------------------
@pytest.mark.parametrize("name,hidden", [("VariationalAutoEncoder", (64,)),
                                         ("ConvolutionalVariationalAutoEncoder", (8,))])
def test_test_elbo_rises_on_digits(backend, name, hidden):
    """Digits (64 grey levels in [0, 1]), latent 8, 8 epochs: the test-split ELBO rises, ends at
    least 15 nats above the untrained model's and 0.75 nat above the best independent-pixel
    Bernoulli model (the training mean image, about -27.2 nats)."""
    digits = load_digits()
    ab.seed_everything(0)
    model = getattr(backend, name).example(64, code_size=8, hidden=hidden,
                                           optimizer=ab.OptimizerSpec("adam", learning_rate=0.003))
    untrained = model.elbo(digits.x_test, samples=5, seed=0).mean()
    model.learn(digits.iterator(batch_size=32, epochs=8, seed=0, labels=False), progress=False)
    curve = model.history["test_elbo"].to_numpy()
    assert curve[-1] > curve[0] + 2 and curve[-1] >= curve[:4].max()
    assert (model.history["train_loss"].to_numpy() == -model.history["train_elbo"].to_numpy()).all()
    trained = model.elbo(digits.x_test, samples=5, seed=0)
    assert np.isfinite(trained).all()
    mean_image = digits.x_train.mean(axis=0).clip(1e-6, 1 - 1e-6)
    x = digits.x_test
    baseline = (x * np.log(mean_image) + (1 - x) * np.log(1 - mean_image)).sum(axis=1).mean()
    assert trained.mean() > untrained + 15
    assert trained.mean() > baseline + 0.75


# -- checks ---------------------------------------------------------------------------------------
def test_bad_parts_are_clear_errors_at_construction(backend):
    net = backend.NeuralNetworks
    vae = backend.VariationalAutoEncoder
    decoder = net([3, 12], output_activation="sigmoid")
    with pytest.raises(ab.ShapeError, match=r"even width 2 \* latent"):
        vae(net([12, 7]), decoder)
    with pytest.raises(ab.ShapeError, match=r"latent of 4, but the decoder expects codes of width 3"):
        vae(net([12, 8]), decoder)
    with pytest.raises(ab.ShapeError, match=r"decoder outputs shape \(10,\) but the encoder's input shape is \(12,\)"):
        vae(net([12, 6]), net([3, 10], output_activation="sigmoid"))
    with pytest.raises(ab.InputError, match="probabilities"):
        vae(net([12, 6]), net([3, 12]))  # identity outputs are no Bernoulli probabilities
    vae(net([12, 6]), net([3, 12]), reconstruction="gaussian")  # ... but Gaussian means
    with pytest.raises(ab.InputError, match="unknown reconstruction 'poisson'"):
        vae(net([12, 6]), decoder, reconstruction="poisson")
    with pytest.raises(ab.InputError, match="kl_weight must be >= 0"):
        vae(net([12, 6]), decoder, kl_weight=-1.0)
    with pytest.raises(ab.InputError, match="observation_std must be > 0"):
        vae(net([12, 6]), decoder, observation_std=0.0)
    with pytest.raises(ab.InputError, match="encoder must be an accelbrainbase model"):
        vae(np.zeros(3), decoder)
    with pytest.raises(ab.InputError, match="units must list"):
        vae.dense([12])


def test_bad_calls_are_clear_errors(backend):
    model = backend.VariationalAutoEncoder.example(12, code_size=4, hidden=(8,))
    with pytest.raises(ab.InputError, match="unconditional"):
        model.generate(4, labels=np.arange(4))
    with pytest.raises(ab.InputError, match="n must be > 0"):
        model.generate(0)
    with pytest.raises(ab.InputError, match="samples must be > 0"):
        model.elbo(np.zeros((2, 12), np.float32), samples=0)
    with pytest.raises(ab.ShapeError, match="expected 12, got 5"):
        model.elbo(np.zeros((2, 5), np.float32))


def test_convolutional_decoder_model(backend):
    ab.seed_everything(0)
    decoder = backend.ConvolutionalDecoder((1, 4, 6), channels=(2, 3), code_size=5)
    assert decoder.input_shape == (5,) and decoder.output_shape == (1, 4, 6)
    out = decoder.inference(np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32))
    assert out.shape == (3, 1, 4, 6) and 0 <= out.min() and out.max() <= 1
    assert decoder.export_state()["decoder.deconvs.1.weight"].shape == (2, 1, 3, 3)
    with pytest.raises(ab.InputError, match="code_size must be > 0"):
        backend.ConvolutionalDecoder((1, 4, 6), code_size=0)
