"""Ladder networks (Rasmus et al. 2015) against the math (combinator, denoising cost by hand in
NumPy), the label convention (-1 = unlabelled), semi-supervised learning on digits with 10
labels per class, split_labelled and the iterator; both backends."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.models.ladder import COMBINATOR_INIT, default_denoising_weights
from accelbrainbase.data import ArrayIterator, load_digits
from accelbrainbase.data.semisupervised import SemiSupervisedIterator, split_labelled


def to_numpy(value):
    return value.asnumpy() if hasattr(value, "asnumpy") else value.detach().cpu().numpy()


def combine(model, layer, z, u):
    comb = model.decoder.combinators[layer]
    if hasattr(comb, "combine"):  # mxnet: the F-written function
        from mxnet import nd

        return comb.combine(nd, model._tensor(z), model._tensor(u), z.ndim)
    return comb(model._tensor(z), model._tensor(u))


def test_combinator_is_the_vanilla_formula(backend):
    model = backend.LadderNetworks([4, 3, 2])
    rng = np.random.default_rng(0)
    z, u = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    a = rng.normal(size=(10, 3)).astype(np.float32)
    state = model.export_state()
    for i in range(10):  # initial values: a2 = a7 = 1, the rest 0 (the authors' code)
        np.testing.assert_array_equal(state[f"decoder.combinators.1.a{i + 1}"], np.full(3, COMBINATOR_INIT[i]))
        state[f"decoder.combinators.1.a{i + 1}"] = a[i]
    model.import_state(state)
    sig = lambda t: 1 / (1 + np.exp(-t))
    mu = a[0] * sig(a[1] * u + a[2]) + a[3] * u + a[4]
    v = a[5] * sig(a[6] * u + a[7]) + a[8] * u + a[9]
    np.testing.assert_allclose(to_numpy(combine(model, 1, z, u)), (z - mu) * v + mu, rtol=1e-5, atol=1e-6)
    # at the initial values mu = 0 and v = 0: z^ = 0 whatever z~ and u
    fresh = backend.LadderNetworks([4, 3, 2])
    np.testing.assert_allclose(to_numpy(combine(fresh, 1, z, u)), 0.0, atol=1e-7)


def numpy_ladder(state, x, noise, noise_std, weights, eps=1e-5):
    """Algorithm 1 of Rasmus et al. 2015 for a dense relu ladder, by hand: the denoising cost."""
    n_layers = sum(1 for k in state if k.startswith("encoder.layers."))

    def bn(z):
        mean, var = z.mean(0), z.var(0)
        return (z - mean) / np.sqrt(var + eps), mean, np.sqrt(var + eps)

    def encode(noisy):
        h = z = x + noise_std * noise[0] if noisy else x
        zs, stats = [z], []
        for i in range(n_layers):
            z, mean, std = bn(h @ state[f"encoder.layers.{i}.weight"].T)
            if noisy:
                z = z + noise_std * noise[i + 1]
            zs.append(z)
            stats.append((mean, std))
            shifted = z + state[f"encoder.norms.{i}.bias"]
            if i < n_layers - 1:
                h = np.maximum(shifted, 0)
            else:
                logits = state[f"encoder.norms.{i}.weight"] * shifted
                h = np.exp(logits - logits.max(1, keepdims=True))
                h /= h.sum(1, keepdims=True)
        return h, zs, stats

    _, clean, stats = encode(False)
    h_top, corrupted, _ = encode(True)
    sig = lambda t: 1 / (1 + np.exp(-t))
    cost, z_hat = 0.0, None
    for l in range(n_layers, -1, -1):
        u = h_top if l == n_layers else z_hat @ state[f"decoder.layers.{l}.weight"].T
        u = bn(u)[0]
        a = [state[f"decoder.combinators.{l}.a{i}"] for i in range(1, 11)]
        mu = a[0] * sig(a[1] * u + a[2]) + a[3] * u + a[4]
        v = a[5] * sig(a[6] * u + a[7]) + a[8] * u + a[9]
        z_hat = (corrupted[l] - mu) * v + mu
        z_bn = z_hat if l == 0 else (z_hat - stats[l - 1][0]) / stats[l - 1][1]
        cost += weights[l] / clean[l].shape[1] * ((clean[l] - z_bn) ** 2).sum(1).mean()
    return cost, stats


def test_denoising_cost_is_algorithm_1_by_hand(backend):
    ab.seed_everything(0)
    weights = [5.0, 2.0, 0.5, 0.3]
    model = backend.LadderNetworks([6, 5, 4, 3], noise_std=0.4, denoising_weights=weights)
    rng = np.random.default_rng(1)
    state = model.export_state()
    for name in state:  # move every learned parameter off its initial value
        if "running" not in name:
            state[name] = (state[name] + rng.normal(scale=0.5, size=state[name].shape)).astype(np.float32)
    model.import_state(state)
    x = rng.random((8, 6)).astype(np.float32)
    noise = [rng.normal(size=(8,) + s).astype(np.float32) for s in model.layer_shapes]
    expected, stats = numpy_ladder({k: v.astype(np.float64) for k, v in state.items()}, x.astype(np.float64),
                                   [n.astype(np.float64) for n in noise], 0.4, weights)
    assert model.denoising_cost(x, noise) == pytest.approx(expected, rel=1e-4)
    # a perfect decoder: without noise z~(l) = z(l); with only a5, a10 non-zero the combinator is
    # z^ = (z~ - a5) a10 + a5, and a10 = sigma(l), a5 = mu(l) / (1 - sigma(l)) (clean batch
    # statistics; a10 = 1 at the input) give z^ = sigma z + mu, which z^_BN = (z^ - mu) / sigma
    # maps back to z(l): every layer's cost is exactly 0
    for l in range(4):
        for i in range(1, 11):
            state[f"decoder.combinators.{l}.a{i}"] = np.zeros_like(state[f"decoder.combinators.{l}.a{i}"])
        mean, std = (0.0, 1.0) if l == 0 else stats[l - 1]
        state[f"decoder.combinators.{l}.a5"] += np.float32(0.0 if l == 0 else mean / (1 - std))
        state[f"decoder.combinators.{l}.a10"] += np.float32(std)
    perfect = backend.LadderNetworks([6, 5, 4, 3], noise_std=0.0, denoising_weights=weights)
    perfect.import_state(state)
    assert perfect.denoising_cost(x, noise) == pytest.approx(0.0, abs=1e-4)
    assert numpy_ladder(state, x, noise, 0.0, weights)[0] == pytest.approx(0.0, abs=1e-9)
    noisy = backend.LadderNetworks([6, 5, 4, 3], noise_std=0.4, denoising_weights=weights)
    noisy.import_state(state)  # with noise the same decoder passes the noise through: cost > 0
    assert noisy.denoising_cost(x, noise) == pytest.approx(
        numpy_ladder(state, x.astype(np.float64), noise, 0.4, weights)[0], rel=1e-4)
    assert noisy.denoising_cost(x, noise) > 0.1


def test_supervised_cost_ignores_unlabelled_samples(backend):
    ab.seed_everything(0)
    model = backend.LadderNetworks([6, 5, 3], noise_std=0.3)
    rng = np.random.default_rng(0)
    x = rng.random((10, 6)).astype(np.float32)
    truth = np.array([0, 1, 2, 0, 1, 2, 2, 1, 0, 0])
    y = np.where(np.arange(10) < 4, truth, -1)
    noise = [rng.normal(size=(10,) + s).astype(np.float32) for s in model.layer_shapes]

    def costs(x, y):
        terms = model.ladder_terms(model._tensor(x), noise=noise, update_statistics=False)
        mask = model.label_mask(model._tensor(y))
        supervised = -model._masked(model.log_likelihoods(terms.corrupted_logits, model._tensor(y)), mask)
        log_p = to_numpy(terms.corrupted_logits).astype(np.float64)
        log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
        return (float(to_numpy(supervised).sum()),
                sum(w * model.scalar(c) for w, c in zip(model.denoising_weights, terms.costs)), log_p)

    sup, den, log_p = costs(x, y)
    assert sup == pytest.approx(-log_p[np.arange(4), y[:4]].mean(), rel=1e-5)  # the 4 labelled samples only
    sup_all, den_all, _ = costs(x, truth)
    assert sup_all == pytest.approx(-log_p[np.arange(10), truth].mean(), rel=1e-5)
    assert den_all == pytest.approx(den, rel=1e-6)  # labels never enter the denoising cost
    assert costs(x, np.full(10, -1))[0] == 0.0  # no labelled sample: no supervised cost
    moved = x.copy()
    moved[7] = rng.random(6)  # another unlabelled input changes the denoising cost; the supervised
    sup_moved, den_moved, log_p_moved = costs(moved, y)  # one only through the batch statistics
    assert den_moved != pytest.approx(den, rel=1e-4)
    assert sup_moved == pytest.approx(-log_p_moved[np.arange(4), y[:4]].mean(), rel=1e-5)


def test_other_classifiers_refuse_the_unlabelled_label(backend):
    x = np.random.default_rng(0).random((20, 64)).astype(np.float32)
    y = np.arange(20) % 3
    y[5] = -1
    model = backend.ConvolutionalNeuralNetworks.example(64, code_size=3)
    with pytest.raises(ab.InputError, match="label -1"):
        model.learn(ArrayIterator(x, y, batch_size=8, epochs=1), progress=False)
    mlp = backend.NeuralNetworks([64, 3], loss="cross_entropy")
    with pytest.raises(ab.InputError, match="label -1"):
        mlp.learn(ArrayIterator(x, y, batch_size=8, epochs=1), progress=False)
    y[5] = 3  # a class the model does not have
    with pytest.raises(ab.InputError, match="3 outputs, so the labels in y_train must be < 3, got 3"):
        model.learn(ArrayIterator(x, y, batch_size=8, epochs=1), progress=False)
    ladder = backend.LadderNetworks.example(64, code_size=3)
    y[5] = -2
    with pytest.raises(ab.InputError, match=">= -1"):
        ladder.learn(ArrayIterator(x, y, batch_size=8, epochs=1), progress=False)
    y[5] = -1
    ladder.learn(ArrayIterator(x, y, batch_size=8, epochs=1), progress=False)  # -1 is fine here


def test_bad_hyper_parameters(backend):
    with pytest.raises(ab.InputError, match="needs 4 entries .* got 3"):
        backend.LadderNetworks([6, 5, 4, 3], denoising_weights=[1.0, 1.0, 1.0])
    with pytest.raises(ab.InputError, match=r"denoising_weights\[1\] must be >= 0"):
        backend.LadderNetworks([6, 5, 3], denoising_weights=[1.0, -1.0, 1.0])
    with pytest.raises(ab.InputError, match="noise_std"):
        backend.LadderNetworks([6, 5, 3], noise_std=-0.1)
    with pytest.raises(ab.InputError, match="activation"):
        backend.LadderNetworks([6, 5, 3], activation="softmax")
    with pytest.raises(ab.InputError, match="number of classes"):
        backend.LadderNetworks([6, 1])
    assert backend.LadderNetworks([6, 5, 3]).denoising_weights == [1000.0, 10.0, 0.1]
    assert default_denoising_weights(6) == [1000.0, 10.0, 0.1, 0.1, 0.1, 0.1, 0.1]  # the paper's MNIST ladder
    text = repr(backend.ConvolutionalLadderNetworks.example(64, code_size=3))
    assert "channels=[16, 32]" in text and "denoising_weights=[1000.0, 10.0, 0.1, 0.1]" in text
    with pytest.raises(ab.InputError, match="adds its own Gaussian noise"):
        from accelbrainbase.data import GaussianNoise

        x = np.random.default_rng(0).random((8, 6)).astype(np.float32)
        backend.LadderNetworks([6, 5, 3]).learn(
            ArrayIterator(x, np.arange(8) % 3, epochs=1, noiseable_data=GaussianNoise(0.1)), progress=False)


def test_conv_ladder_layers_mirror_the_encoder(backend):
    model = backend.ConvolutionalLadderNetworks((1, 7, 6), channels=(4, 5), hidden=(6,), outputs=3)
    assert model.layer_shapes == [(1, 7, 6), (4, 4, 3), (5, 2, 2), (6,), (3,)]
    state = model.export_state()
    assert state["decoder.layers.0.weight"].shape == (4, 1, 3, 3)  # transposed conv: (in, out, k, k)
    assert state["decoder.layers.2.weight"].shape == (20, 6)  # dense back to the 5x2x2 maps
    assert state["decoder.combinators.1.a1"].shape == (4,)  # per channel on feature maps
    x = np.random.default_rng(0).random((5, 1, 7, 6)).astype(np.float32)
    assert np.isfinite(model.denoising_cost(x)) and model.inference(x).shape == (5, 3)


def test_running_statistics_are_used_for_inference(backend):
    ab.seed_everything(0)
    model = backend.LadderNetworks([6, 5, 3])
    x = np.random.default_rng(0).random((40, 6)).astype(np.float32) * 3 + 1
    before = model.inference(x)
    model.ladder_terms(model._tensor(x))  # one training pass moves the running statistics
    state = model.export_state()
    z = x @ state["encoder.layers.0.weight"].T
    np.testing.assert_allclose(state["encoder.norms.0.running_mean"], 0.1 * z.mean(0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(state["encoder.norms.0.running_var"], 0.9 + 0.1 * z.var(0, ddof=1), rtol=1e-4)
    assert not np.allclose(model.inference(x), before)
    np.testing.assert_allclose(model.inference(x[:3]), model.inference(x)[:3], rtol=1e-5)  # no batch dependence


def test_split_labelled_counts_and_errors():
    y = np.repeat(np.arange(4), [5, 6, 7, 8])
    out = split_labelled(y, 2, seed=0)
    assert out.dtype == np.int64 and out.shape == y.shape
    assert sorted(out[out >= 0].tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert np.all((out == y) | (out == -1))  # kept labels are the true ones
    np.testing.assert_array_equal(split_labelled(y, 2, seed=0), out)
    assert not np.array_equal(split_labelled(y, 2, seed=1), out)
    np.testing.assert_array_equal(split_labelled(y, 5, seed=3)[y == 0], np.zeros(5))
    with pytest.raises(ab.InputError, match="class 0 has 5 sample"):
        split_labelled(y, 6, seed=0)
    with pytest.raises(ab.InputError, match="labels_per_class must be an integer >= 1, got 0"):
        split_labelled(y, 0)
    with pytest.raises(ab.InputError, match="non-integer value 0.5"):
        split_labelled(np.array([0.0, 0.5, 1.0]), 1)
    with pytest.raises(ab.InputError, match="dtype <U1"):
        split_labelled(np.array(["a", "b"]), 1)
    with pytest.raises(ab.InputError, match=">= 0"):
        split_labelled(np.array([0, -1, 1]), 1)
    np.testing.assert_array_equal(split_labelled(np.array([0.0, 1.0]), 1), [0, 1])


def test_semisupervised_iterator_mixes_both_parts():
    x = np.arange(50, dtype=np.float32).reshape(25, 2)
    y = np.full(25, -1)
    y[[3, 7, 11]] = [0, 1, 2]
    it = SemiSupervisedIterator(x, y, batch_size=10, labelled_batch_size=4, epochs=1, seed=0)
    batches = list(it.generate_learned_samples())
    assert len(batches) == len(it) == 3
    assert [len(b.targets) for b in batches] == [14, 14, 9]
    for b in batches:
        assert (b.targets[:4] >= 0).all() and (b.targets[4:] == -1).all()
        np.testing.assert_array_equal(b.clean[:4, 0] // 2, [[3, 7, 11][t] for t in b.targets[:4]])
    seen = np.concatenate([b.clean[4:, 0] for b in batches]) // 2
    assert sorted(seen.tolist()) == list(range(25))  # every sample once in the unlabelled part
    firsts = np.concatenate([b.targets[:4] for b in batches])
    assert sorted(firsts[:3].tolist()) == [0, 1, 2]  # a cycle shows each labelled sample once
    with pytest.raises(ab.InputError, match="no labelled sample"):
        SemiSupervisedIterator(x, np.full(25, -1))
    with pytest.raises(ab.InputError, match="-1 .unlabelled., got -3"):
        SemiSupervisedIterator(x, np.full(25, -3))


#: Adam with the paper's learning rate 0.002
ADAM = ab.OptimizerSpec("adam", learning_rate=0.002)


def supervised_twin(backend, lam, dataset, labels, epochs):
    """The same network with all denoising weights 0, trained on the labelled samples only
    (repeated to the training set's size, so it gets as many updates per epoch)."""
    ab.seed_everything(0)
    model = backend.LadderNetworks.example(64, code_size=10, denoising_weights=[0.0] * len(lam), optimizer=ADAM)
    keep = labels >= 0
    repeat = int(np.ceil(len(labels) / keep.sum()))
    x, y = np.tile(dataset.x_train[keep], (repeat, 1)), np.tile(labels[keep], repeat)
    model.learn(ArrayIterator(x, y, batch_size=32, epochs=epochs, seed=0), progress=False)
    return float(np.mean(model.inference(dataset.x_test).argmax(1) == dataset.y_test))


def test_ladder_beats_its_supervised_twin_with_ten_labels_per_class(backend):
    """digits, 10 labels per class (100 of 1,437): the ladder (all 1,437 images, batches of 32
    labelled + 32 unlabelled) vs the same network trained on the 100 labels only."""
    dataset, epochs = load_digits(), 40
    labels = split_labelled(dataset.y_train, 10, seed=0)
    ab.seed_everything(0)
    ladder = backend.LadderNetworks.example(64, code_size=10, optimizer=ADAM)
    ladder.learn(SemiSupervisedIterator(dataset.x_train, labels, test_x=dataset.x_test, test_y=dataset.y_test,
                                        batch_size=32, epochs=epochs, seed=0), progress=False)
    history = ladder.history
    assert {"train_supervised", "train_denoising", "train_accuracy", "test_accuracy"} <= set(history.columns)
    assert history["train_denoising"].iloc[-1] < 0.5 * history["train_denoising"].iloc[0]
    accuracy = float(np.mean(ladder.inference(dataset.x_test).argmax(1) == dataset.y_test))
    twin = supervised_twin(backend, ladder.denoising_weights, dataset, labels, epochs)
    # measured (seed 0, 40 epochs): torch 0.947 vs 0.928, mxnet >= 2 points; 60 epochs: 0.961 vs 0.919
    assert accuracy >= twin + 0.015, (accuracy, twin)
    assert accuracy >= 0.94
    from sklearn.linear_model import LogisticRegression

    keep = labels >= 0
    logistic = LogisticRegression(max_iter=2000).fit(dataset.x_train[keep], dataset.y_train[keep])
    assert accuracy >= logistic.score(dataset.x_test, dataset.y_test) + 0.03  # 0.908 on the same 100 labels
