"""Training images per second of the convolutional models on MNIST-5k (1x28x28, flat rows):
``learn()`` vs a minimal hand-written loop of the same network in the same framework, measured
side by side in one run (as benchmarks/overhead.py does for the dense auto-encoder).

    python benchmarks/conv.py [--backends torch,mxnet] [--epochs 1] [--repeats 3] [--limit 2000]

Networks: ConvolutionalAutoEncoder (3x3 convolutions of 8 and 16 filters, 16-unit code, MSE,
Adam 1e-3) and MobileNetV2 (width 0.25, output stride 8, 10 classes, cross-entropy, Adam 0.01;
``MobileNetV2.example``). Both loops train the same module from the same initial weights on the
first ``limit`` training images with the same batch size and optimizer; neither evaluates
held-out data. Each loop first runs untimed on two batches (allocator, thread pools, mxnet's
graph); then the best of ``repeats`` interleaved runs is reported. A backend (or model) that
does not import here is skipped with the reason.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import accelbrainbase as ab
from accelbrainbase.core.backends import get_backend
from accelbrainbase.core.errors import MissingDependencyError
from accelbrainbase.core.optim import as_optimizer_spec
from accelbrainbase.data import ArrayIterator, load_mnist5k


@dataclass
class Config:
    batch_size: int = 32
    epochs: int = 1
    repeats: int = 3
    limit: int = 2000


def build(backend, network: str):
    """A fresh model of ``network``; ``supervised`` says whether it trains on labels."""
    if network == "ConvolutionalAutoEncoder":
        model = backend.ConvolutionalAutoEncoder.example(784, code_size=16, hidden=(8, 16),
                                                         optimizer=ab.OptimizerSpec("adam", learning_rate=1e-3))
    else:
        model = backend.MobileNetV2.example(784, code_size=10, width_multiplier=0.25)
    return model, network == "MobileNetV2"


def hand_written_torch(model, x, y, supervised, cfg):
    import torch
    import torch.nn.functional as F

    data, labels = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=as_optimizer_spec(model.optimizer).learning_rate)
    model.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(data))
        for i in range(0, len(data), cfg.batch_size):
            index = order[i:i + cfg.batch_size]
            batch = data[index]
            out = model(batch)
            loss = F.cross_entropy(out, labels[index]) if supervised else F.mse_loss(out, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def hand_written_mxnet(model, x, y, supervised, cfg):
    from mxnet import autograd, gluon, nd

    data, labels = nd.array(x), nd.array(y)
    trainer = gluon.Trainer(model.collect_params(), "adam",
                            {"learning_rate": as_optimizer_spec(model.optimizer).learning_rate})
    cross_entropy = gluon.loss.SoftmaxCrossEntropyLoss()
    model.hybridize()
    for _ in range(cfg.epochs):
        order = nd.array(np.random.permutation(len(x)))
        for i in range(0, len(x), cfg.batch_size):
            index = order[i:i + cfg.batch_size]
            batch = nd.take(data, index)
            with autograd.record():
                out = model(batch)
                loss = (nd.mean(cross_entropy(out, nd.take(labels, index))) if supervised
                        else nd.mean(nd.square(out - batch)))
            loss.backward()
            trainer.step(1)
    nd.waitall()


HAND_WRITTEN = {"torch": hand_written_torch, "mxnet": hand_written_mxnet}


def train(loop: str, backend_name: str, model, supervised: bool, x, y, cfg: Config) -> float:
    """Seconds ``loop`` takes to train ``model`` for ``cfg.epochs`` on ``x`` (``y``)."""
    start = time.perf_counter()
    if loop == "hand-written":
        HAND_WRITTEN[backend_name](model, x, y, supervised, cfg)
    else:
        model.learn(ArrayIterator(x, y if supervised else None, batch_size=cfg.batch_size,
                                  epochs=cfg.epochs, seed=0), progress=False)
    return time.perf_counter() - start


def measure(backend_name: str, network: str, x: np.ndarray, y: np.ndarray, cfg: Config) -> dict:
    """Images per second of each loop (best of ``cfg.repeats`` after an untimed warm-up)."""
    backend = get_backend(backend_name)
    ab.seed_everything(0)
    model, supervised = build(backend, network)
    initial = model.export_state()
    best = {"hand-written": np.inf, "learn()": np.inf}
    warm_up = Config(batch_size=cfg.batch_size, epochs=1)
    for loop in best:
        train(loop, backend_name, build(backend, network)[0], supervised, x[:2 * cfg.batch_size],
              y[:2 * cfg.batch_size], warm_up)
    for _ in range(cfg.repeats):
        for loop in best:
            model, _ = build(backend, network)
            model.import_state(initial)
            best[loop] = min(best[loop], train(loop, backend_name, model, supervised, x, y, cfg))
    return {loop: cfg.epochs * len(x) / seconds for loop, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,mxnet")
    parser.add_argument("--networks", default="ConvolutionalAutoEncoder,MobileNetV2")
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--repeats", type=int, default=Config.repeats)
    parser.add_argument("--limit", type=int, default=Config.limit, help="training images used (at most 4000)")
    args = parser.parse_args()
    if min(args.epochs, args.repeats, args.limit) < 1:
        parser.error("--epochs, --repeats and --limit must be at least 1")
    cfg = Config(epochs=args.epochs, repeats=args.repeats, limit=args.limit)
    dataset = load_mnist5k()
    x, y = dataset.x_train[:cfg.limit], dataset.y_train[:cfg.limit].astype(np.int64)
    print(f"MNIST-5k: {len(x)} training images (1x28x28, flat), batch {cfg.batch_size}, "
          f"{cfg.epochs} epoch(s), best of {cfg.repeats}\n")
    print(f"{'backend':8} {'network':25} {'loop':13} {'images/s':>9} {'time ratio vs hand-written':>27}")
    for backend_name in args.backends.split(","):
        try:
            backend = get_backend(backend_name)
        except (MissingDependencyError, ImportError) as exc:
            print(f"{backend_name:8} skipped: {exc}")
            continue
        for network in args.networks.split(","):
            if not hasattr(backend, network):
                print(f"{backend_name:8} {network:25} skipped: accelbrainbase.{backend_name} has no {network}")
                continue
            rates = measure(backend_name, network, x, y, cfg)
            base = rates["hand-written"]
            for loop, rate in rates.items():
                print(f"{backend_name:8} {network:25} {loop:13} {rate:9.1f} {base / rate:27.2f}")


if __name__ == "__main__":
    main()
