"""``demo NAME``: one model on real data, its numbers next to simple baselines, and pictures."""
from __future__ import annotations

import os

import numpy as np

from accelbrainbase.core.errors import InputError
from accelbrainbase.core.registry import models
from accelbrainbase.core.seeding import seed_everything
from accelbrainbase.core.validation import check_choice
from accelbrainbase.data.datasets import load_digits
from accelbrainbase.workbench import representation
from accelbrainbase.workbench.report import format_table

DEMOS = ("autoencoder", "rbm", "dbm", "encdec-ad", "cae", "gan")
#: ``demo gan --model NAME``: the registered generation model each name trains
GAN_MODELS = {"gan": "GANController", "cgan": "ConditionalGANController", "aae": "AAEController",
              "ebgan": "EBGANController", "ebaae": "EBAAEController", "vae": "VariationalAutoEncoder"}


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


#: the convolutional auto-encoders of ``demo cae`` and their row labels in the picture
CAE_MODELS = (("ConvolutionalAutoEncoder", "CAE"), ("ContractiveConvolutionalAutoEncoder", "contractive"),
              ("RepellingConvolutionalAutoEncoder", "repelling"))


def demo_cae(backend: str = "torch", epochs: int = 60, out: str = "out/demo-cae", seed: int = 0,
             progress: bool = True, echo=print) -> dict:
    """The plain, contractive and repelling convolutional auto-encoders (``compare``'s example
    configuration: one 3x3 convolution of 8 filters, a 16-unit code) on digits: test
    reconstruction MSE next to PCA(16) and the mean image; a PNG with a row of test digits and a
    row of each model's reconstructions."""
    from accelbrainbase.core.plotting import plot_image_rows

    dataset = load_digits()
    registered = models("representation", backend)
    rows, trained = [], []
    for name, _ in CAE_MODELS:
        row = representation.run_model(registered[name], backend, dataset, code_size=16, epochs=epochs,
                                       batch_size=32, seed=seed, progress=progress)
        trained.append(row.pop("model_object"))
        rows.append(row)
    rows += representation.baselines(dataset, code_size=16)
    echo(f"convolutional auto-encoders ({backend}) on digits, {epochs} epochs, "
         f"test set of {len(dataset.x_test)} digits")
    echo(format_table(rows, representation.COLUMNS))
    os.makedirs(out, exist_ok=True)
    x = dataset.x_test[:12]
    path = plot_image_rows([x] + [model.inference(x) for model in trained],
                           ["original"] + [label for _, label in CAE_MODELS], dataset.image_shape,
                           os.path.join(out, "reconstructions.png"),
                           title=f"convolutional auto-encoders ({backend}), test digits")
    echo(f"\npicture: {path}")
    return {"rows": rows, "models": dict(zip([name for name, _ in CAE_MODELS], trained)), "picture": path}


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


def demo_dbm(backend: str = "torch", epochs: int = 60, out: str = "out/demo-dbm", seed: int = 0,
             progress: bool = True, echo=print, hidden=(100, 100), ais_chains: int = 100,
             ais_betas: int = 10000) -> dict:
    """A Bernoulli deep Boltzmann machine 64-100-100 (layer-wise pre-training, then joint training
    with mean field + persistent chains; Salakhutdinov & Hinton 2009) on binarized digits: AIS
    estimate of log Z (``ais_chains`` chains, ``ais_betas`` temperatures), the mean test
    variational lower bound on log p(v), reconstruction MSE; pictures of the first-layer filters,
    reconstructions, samples and the loss curves."""
    from accelbrainbase.core.plotting import plot_filters, plot_image_rows
    from accelbrainbase.data.iterators import ArrayIterator

    dataset = load_digits()
    train = (dataset.x_train > 0.5).astype(np.float32)
    test = (dataset.x_test > 0.5).astype(np.float32)
    units = [64, *hidden]
    name = "-".join(map(str, units))
    seed_everything(seed)
    model = models("representation", backend)["DeepBoltzmannMachines"](units)
    model.learn(ArrayIterator(train, test_x=test, batch_size=20, epochs=epochs, seed=seed), progress=progress)
    ais = model.ais_log_partition(n_chains=ais_chains, n_betas=ais_betas, seed=seed)
    bound = float(model.log_likelihood_lower_bound(test, log_z=ais.log_z).mean())
    mse = float(np.mean((model.inference(test) - test) ** 2))
    mean_mse = float(np.mean((train.mean(0) - test) ** 2))
    echo(f"DBM {name} ({backend}), layer-wise pre-training + {epochs} epochs of mean-field/PCD "
         f"training on binarized digits")
    echo(f"  AIS log Z = {ais.log_z:.3f} +/- {ais.log_z_std:.3f} (3-sigma range [{ais.lower:.3f}, "
         f"{ais.upper:.3f}], {ais_chains} chains, {ais_betas} temperatures)")
    echo(f"  test variational lower bound on log p(v) {bound:.3f} nats/digit (with the AIS log Z)")
    echo(f"  test reconstruction MSE {mse:.4f} (mean image: {mean_mse:.4f})")
    os.makedirs(out, exist_ok=True)
    x = test[:12]
    paths = [
        plot_filters(model.export_state()["weight0"].T, dataset.image_shape, os.path.join(out, "filters.png"),
                     title=f"DBM first-layer filters ({backend})"),
        plot_image_rows([x, model.inference(x)], ["original", "reconstructed"], dataset.image_shape,
                        os.path.join(out, "reconstructions.png"), title="binarized test digits, E[v | mu1]"),
        plot_image_rows([model.sample(12, gibbs_steps=1000, seed=seed)], ["samples"], dataset.image_shape,
                        os.path.join(out, "samples.png"), title="after 1000 block-Gibbs steps from noise"),
    ]
    model.history_.plot(os.path.join(out, "loss.png"), title=f"DBM ({backend}) on digits")
    paths.append(os.path.join(out, "loss.png"))
    echo(f"  pictures: {', '.join(paths)}")
    return {"model": model, "ais": ais, "lower_bound": bound, "reconstruction_mse": mse}


def plot_anomaly_scores(windows: np.ndarray, point_scores: np.ndarray, labels: np.ndarray, threshold: float,
                        path: str, title: str) -> str:
    """Windows (N, T, F) laid end to end as one series (each step's F values in time order),
    its per-point anomaly score with the threshold, and the true anomalies shaded."""
    from accelbrainbase.core.plotting import _pyplot

    plt = _pyplot()
    n, steps, width = windows.shape
    series = windows.reshape(-1)
    scores = np.repeat(point_scores.reshape(-1), width)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    top.plot(series, lw=0.8, color="#333")
    for i in np.flatnonzero(labels):
        for ax in (top, bottom):
            ax.axvspan(i * steps * width, (i + 1) * steps * width, color="#e66", alpha=0.2, lw=0)
    top.set_ylabel("signal")
    top.set_title(title)
    bottom.plot(scores, lw=0.8, color="#37a", label="anomaly score (Mahalanobis)")
    bottom.axhline(threshold, color="#e33", ls="--", lw=1, label="threshold (max F0.1 on validation)")
    bottom.set_ylabel("score")
    bottom.set_xlabel("time (true anomalies shaded)")
    bottom.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def demo_encdec_ad(backend: str = "torch", epochs: int = 40, out: str = "out/demo-encdec-ad", seed: int = 0,
                   progress: bool = True, echo=print) -> dict:
    """EncDec-AD on ECG5000 (normal vs abnormal heartbeats): ROC-AUC, precision, recall and F0.1
    at the threshold chosen on validation, next to PCA and IsolationForest; a PNG of test beats
    with their anomaly scores and the true anomalies."""
    from accelbrainbase.data.sequence_datasets import load_ecg5000
    from accelbrainbase.workbench import anomaly

    dataset = load_ecg5000()
    cls = models("anomaly-detection", backend)["EncDecAD"]
    row = anomaly.run_model(cls, backend, dataset, epochs=epochs, seed=seed, progress=progress)
    detector = row.pop("model_object")
    rows = [row] + anomaly.baselines(dataset, seed=seed)
    echo(f"EncDec-AD ({backend}) on {dataset.description}: {len(dataset.x_test)} test beats, "
         f"{int(dataset.y_test.sum())} abnormal; threshold {detector.threshold_:.3f}")
    echo(format_table(rows, anomaly.COLUMNS))
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    normal, abnormal = np.flatnonzero(dataset.y_test == 0), np.flatnonzero(dataset.y_test == 1)
    pick = np.sort(np.concatenate([rng.choice(normal, 6, replace=False), rng.choice(abnormal, 4, replace=False)]))
    x = dataset.x_test[pick]
    path = plot_anomaly_scores(x, detector.score_points(x), dataset.y_test[pick], detector.threshold_,
                               os.path.join(out, "scores.png"), f"EncDec-AD ({backend}) on ECG5000 test beats")
    detector.history_.plot(os.path.join(out, "loss.png"), title=f"EncDec-AD ({backend}) on ECG5000")
    echo(f"\npictures: {path}, {os.path.join(out, 'loss.png')}")
    return {"rows": rows, "model": detector}


def demo_gan(backend: str = "torch", epochs: int = 60, out: str = "out/demo-gan", seed: int = 0,
             progress: bool = True, echo=print, model: str = "gan") -> dict:
    """One generative model (``model``: gan, cgan, aae, ebgan, ebaae, vae; ``compare
    generation``'s example configuration) on digits: its scores next to the real data and the
    Gaussian-mixture baseline, a PNG of the same latent inputs decoded after each of up to 10
    epochs (cGAN: one row per label at the end), and the loss curves."""
    from accelbrainbase.core.plotting import plot_image_rows
    from accelbrainbase.workbench import generation

    name = GAN_MODELS[check_choice("model", model, GAN_MODELS)]
    dataset = load_digits()
    evaluator = generation.GenerationEvaluator(dataset, seed=seed, progress=progress)
    cls = models("generation", backend)[name]
    labels = np.arange(10) if getattr(cls, "conditional_example", False) else None
    every = max(1, epochs // 10)
    snapshots = generation.SampleSnapshots(n=10, labels=labels, every=every)
    row = generation.run_model(cls, backend, dataset, evaluator, epochs=epochs, seed=seed, progress=progress,
                               callbacks=[snapshots])
    trained = row.pop("model_object")
    rows = [row] + generation.baselines(dataset, evaluator, seed)
    echo(f"{name} ({backend}) on digits, {epochs} epochs, scored on {row['n']} generated digits")
    echo(format_table(rows, generation.COLUMNS))
    os.makedirs(out, exist_ok=True)
    epochs_shown = sorted(snapshots.snapshots)
    paths = [plot_image_rows([snapshots.snapshots[e] for e in epochs_shown], [f"epoch {e + 1}" for e in epochs_shown],
                             dataset.image_shape, os.path.join(out, "samples-per-epoch.png"),
                             title=f"{name} ({backend}): the same latent inputs while learning")]
    if labels is not None:
        by_label = [trained.generate(10, labels=np.full(10, k)) for k in range(10)]
        paths.append(plot_image_rows(by_label, [f"label {k}" for k in range(10)], dataset.image_shape,
                                     os.path.join(out, "samples-per-label.png"), title=f"{name}: one row per label"))
    paths.append(os.path.join(out, "loss.png"))
    trained.history_.plot(paths[-1], title=f"{name} ({backend}) on digits")
    echo(f"\npictures: {', '.join(paths)}")
    return {"rows": rows, "model": trained, "pictures": paths}


def run_demo(name: str, **kwargs) -> dict:
    check_choice("demo", name, DEMOS)
    if name != "gan" and kwargs.pop("model", None) not in (None, "gan"):
        raise InputError("--model applies to the gan demo only")
    return {"autoencoder": demo_autoencoder, "rbm": demo_rbm, "dbm": demo_dbm,
            "encdec-ad": demo_encdec_ad, "cae": demo_cae, "gan": demo_gan}[name](**kwargs)
