"""Boltzmann-machine benchmarks, measured side by side in one run.

    python benchmarks/rbm.py [--backends torch,mxnet] [--quick]

1. Features for classification: RBM features (100 hidden units) + logistic regression on
   nudged digits vs raw pixels, and scikit-learn's BernoulliRBM in the same recipe.
2. Exact test log-likelihood of a 16-hidden RBM on binarized digits: our CD-1 and PCD vs
   scikit-learn's BernoulliRBM (persistent CD) with the same epochs, batch size and plain-SGD
   learning rate.
3. CD-1 throughput of a 1024x1024 RBM at batch 256 (PyTorch) as achieved GFLOP/s next to the
   float32 matmul peak of this machine, measured in the same run. Target: at least 50%.
4. Steps per second of a 64-100-100-64 deep Boltzmann machine at batch 40 on digits.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import accelbrainbase as ab
from accelbrainbase.core.backends import get_backend
from accelbrainbase.core.errors import MissingDependencyError
from accelbrainbase.models.likelihood import log_likelihood_exact
from accelbrainbase.data import ArrayIterator, load_digits


@dataclass
class Config:
    feature_hidden: int = 100
    feature_epochs: int = 20
    feature_learning_rate: float = 0.06
    feature_batch: int = 10
    likelihood_hidden: int = 16
    likelihood_epochs: int = 20
    likelihood_learning_rate: float = 0.05
    likelihood_batch: int = 20
    throughput_units: int = 1024
    throughput_batch: int = 256
    throughput_steps: int = 60
    dbm_units: tuple = (64, 100, 100, 64)
    dbm_batch: int = 40
    dbm_epochs: int = 2


def nudged_digits():
    """scikit-learn's recipe: each digit and its 1-pixel shifts in four directions, min-max scaled."""
    from scipy.ndimage import shift
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    x, y = sk_digits(return_X_y=True)
    images = x.reshape(-1, 8, 8)
    moved = [images] + [np.stack([shift(im, d, mode="constant") for im in images])
                        for d in ((0, 1), (0, -1), (1, 0), (-1, 0))]
    x = np.concatenate(moved).reshape(-1, 64)
    y = np.concatenate([y] * 5)
    x = (x - x.min(0)) / (x.max(0) - x.min(0) + 1e-4)
    return train_test_split(x.astype(np.float32), y, test_size=0.2, random_state=0)


def logistic_accuracy(train_features, y_train, test_features, y_test, c):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000).fit(train_features, y_train)
    return model.score(test_features, y_test)


def features_for_classification(backends, cfg):
    from sklearn.neural_network import BernoulliRBM

    x_train, x_test, y_train, y_test = nudged_digits()
    rows = [("raw pixels", logistic_accuracy(x_train, y_train, x_test, y_test, c=100.0))]
    sk = BernoulliRBM(n_components=cfg.feature_hidden, learning_rate=cfg.feature_learning_rate,
                      batch_size=cfg.feature_batch, n_iter=cfg.feature_epochs, random_state=0)
    sk.fit(x_train)
    rows.append(("scikit-learn BernoulliRBM",
                 logistic_accuracy(sk.transform(x_train), y_train, sk.transform(x_test), y_test, c=6000.0)))
    for backend in backends:
        ab.seed_everything(0)
        rbm = get_backend(backend).RestrictedBoltzmannMachines(
            64, cfg.feature_hidden, optimizer=ab.OptimizerSpec("sgd", learning_rate=cfg.feature_learning_rate))
        rbm.learn(ArrayIterator(x_train, batch_size=cfg.feature_batch, epochs=cfg.feature_epochs, seed=0),
                  progress=False)
        rows.append((f"accelbrainbase RBM CD-1 ({backend})",
                     logistic_accuracy(rbm.transform(x_train), y_train, rbm.transform(x_test), y_test, c=6000.0)))
    print("1. logistic regression accuracy on nudged digits (test 20%)")
    for name, accuracy in rows:
        print(f"   {name:40s} {accuracy:.4f}")


def likelihood(backends, cfg):
    from sklearn.neural_network import BernoulliRBM

    digits = load_digits()
    train = (digits.x_train > 0.5).astype(np.float32)
    test = (digits.x_test > 0.5).astype(np.float32)
    rows = []
    sk = BernoulliRBM(n_components=cfg.likelihood_hidden, learning_rate=cfg.likelihood_learning_rate,
                      batch_size=cfg.likelihood_batch, n_iter=cfg.likelihood_epochs, random_state=0)
    start = time.perf_counter()
    sk.fit(train)
    seconds = time.perf_counter() - start
    rows.append(("scikit-learn BernoulliRBM (PCD)", seconds,
                 log_likelihood_exact(test, sk.components_.T, sk.intercept_visible_, sk.intercept_hidden_).mean()))
    for backend in backends:
        for persistent in (False, True):
            ab.seed_everything(0)
            rbm = get_backend(backend).RestrictedBoltzmannMachines(
                64, cfg.likelihood_hidden, persistent=persistent,
                optimizer=ab.OptimizerSpec("sgd", learning_rate=cfg.likelihood_learning_rate))
            start = time.perf_counter()
            rbm.learn(ArrayIterator(train, batch_size=cfg.likelihood_batch, epochs=cfg.likelihood_epochs, seed=0),
                      progress=False)
            seconds = time.perf_counter() - start
            rows.append((f"accelbrainbase {'PCD' if persistent else 'CD-1'} ({backend})", seconds,
                         rbm.log_likelihood(test).mean()))
    print(f"\n2. exact test log-likelihood, {cfg.likelihood_hidden}-hidden RBM on binarized digits "
          f"({cfg.likelihood_epochs} epochs, batch {cfg.likelihood_batch}, SGD lr {cfg.likelihood_learning_rate})")
    for name, seconds, value in rows:
        print(f"   {name:40s} {value:9.3f} nats/digit   {seconds:6.2f} s")


def throughput(cfg):
    import torch

    n, batch = cfg.throughput_units, cfg.throughput_batch
    peak = 0.0
    for size in (1024, 2048):
        a, b = torch.randn(size, size), torch.randn(size, size)
        torch.mm(a, b)
        start = time.perf_counter()
        for _ in range(10):
            torch.mm(a, b)
        peak = max(peak, 10 * 2 * size ** 3 / (time.perf_counter() - start) / 1e9)
    rbm = get_backend("torch").RestrictedBoltzmannMachines(n, n, optimizer=ab.OptimizerSpec("sgd", learning_rate=0.01))
    data = (np.random.default_rng(0).random((batch * cfg.throughput_steps, n)) < 0.3).astype(np.float32)
    iterator = ArrayIterator(data, batch_size=batch, epochs=1, seed=0)
    rbm.learn(ArrayIterator(data[:batch * 3], batch_size=batch, epochs=1, seed=0), progress=False)  # warm-up
    start = time.perf_counter()
    rbm.learn(iterator, progress=False)
    seconds = time.perf_counter() - start
    # CD-1: v0 W, h0 W^T, v1 W and the two outer products of the update: 5 (batch x n x n) products
    achieved = cfg.throughput_steps * 5 * 2 * batch * n * n / seconds / 1e9
    print(f"\n3. CD-1 throughput, {n}x{n} RBM, batch {batch} (torch, {torch.get_num_threads()} threads)")
    print(f"   matmul peak {peak:8.1f} GFLOP/s   CD-1 {achieved:8.1f} GFLOP/s   ratio {achieved / peak:.2f}"
          f"   ({cfg.throughput_steps / seconds:.1f} steps/s)")


def dbm_speed(backends, cfg):
    digits = load_digits()
    print(f"\n4. deep Boltzmann machine {'-'.join(map(str, cfg.dbm_units))}, batch {cfg.dbm_batch}, digits")
    for backend in backends:
        module = get_backend(backend)
        if not hasattr(module, "DeepBoltzmannMachines"):
            print(f"   {backend}: DeepBoltzmannMachines not available")
            continue
        ab.seed_everything(0)
        dbm = module.DeepBoltzmannMachines(list(cfg.dbm_units), pretrain_epochs=1)
        data = digits.iterator(batch_size=cfg.dbm_batch, epochs=1, labels=False, seed=0)
        dbm.learn(data, progress=False)  # pre-training and a warm-up epoch
        data = digits.iterator(batch_size=cfg.dbm_batch, epochs=cfg.dbm_epochs, labels=False, seed=0)
        start = time.perf_counter()
        dbm.learn(data, progress=False)
        steps = cfg.dbm_epochs * len(data)
        print(f"   {backend:6s} {steps / (time.perf_counter() - start):8.1f} steps/s (joint training, "
              f"mean-field + persistent chains)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,mxnet")
    parser.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    args = parser.parse_args()
    cfg = Config()
    if args.quick:
        cfg = Config(feature_epochs=2, likelihood_epochs=2, throughput_steps=10, dbm_epochs=1)
    backends = []
    for name in args.backends.split(","):
        try:
            get_backend(name)
            backends.append(name)
        except MissingDependencyError as exc:
            print(f"skipping {name}: {exc}")
    features_for_classification(backends, cfg)
    likelihood(backends, cfg)
    if "torch" in backends:
        throughput(cfg)
    dbm_speed(backends, cfg)


if __name__ == "__main__":
    main()
