"""Overhead of the shared learning loop: steps per second of ``learn()`` for the digits
AutoEncoder (64-48-16-48-64, Adam, batch 32) vs a minimal hand-written loop of the same network
in the same framework, measured side by side in one run. Target: ratio <= 1.2.

    python benchmarks/overhead.py [--backends torch,mxnet] [--epochs 10] [--repeats 3]

Both loops train the same module from the same initial weights on the same data; neither
evaluates held-out data. The best of ``repeats`` interleaved runs is reported.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import accelbrainbase as ab
from accelbrainbase.core.backends import get_backend
from accelbrainbase.core.errors import MissingDependencyError
from accelbrainbase.data import ArrayIterator, load_digits


@dataclass
class Config:
    batch_size: int = 32
    epochs: int = 10
    repeats: int = 3
    learning_rate: float = 1e-3


def hand_written_torch(model, x, cfg):
    import torch
    import torch.nn.functional as F

    data = torch.from_numpy(x)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    model.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(data))
        for i in range(0, len(data), cfg.batch_size):
            batch = data[order[i:i + cfg.batch_size]]
            loss = F.mse_loss(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def hand_written_mxnet(model, x, cfg):
    from mxnet import autograd, gluon, nd

    data = nd.array(x)
    trainer = gluon.Trainer(model.collect_params(), "adam", {"learning_rate": cfg.learning_rate})
    model.hybridize()
    for _ in range(cfg.epochs):
        order = nd.array(np.random.permutation(len(x)))
        for i in range(0, len(x), cfg.batch_size):
            batch = nd.take(data, order[i:i + cfg.batch_size])
            with autograd.record():
                loss = nd.mean(nd.square(model(batch) - batch))
            loss.backward()
            trainer.step(1)
    nd.waitall()


HAND_WRITTEN = {"torch": hand_written_torch, "mxnet": hand_written_mxnet}


def measure(backend_name: str, x: np.ndarray, cfg: Config) -> dict:
    backend = get_backend(backend_name)
    ab.seed_everything(0)
    initial = backend.AutoEncoder.example(x.shape[1], code_size=16).export_state()
    steps = cfg.epochs * -(-len(x) // cfg.batch_size)
    best = {"hand-written": np.inf, "learn()": np.inf, "learn() + progress bar": np.inf}
    for _ in range(cfg.repeats):
        for name in best:
            model = backend.AutoEncoder.example(x.shape[1], code_size=16)
            model.import_state(initial)
            start = time.perf_counter()
            if name == "hand-written":
                HAND_WRITTEN[backend_name](model, x, cfg)
            else:
                data = ArrayIterator(x, batch_size=cfg.batch_size, epochs=cfg.epochs, seed=0)
                model.learn(data, progress=name.endswith("bar"))
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: steps / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,mxnet")
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--repeats", type=int, default=Config.repeats)
    args = parser.parse_args()
    cfg = Config(epochs=args.epochs, repeats=args.repeats)
    x = load_digits().x_train
    print(f"digits AutoEncoder 64-48-16-48-64, batch {cfg.batch_size}, {cfg.epochs} epochs, "
          f"best of {cfg.repeats}\n")
    print(f"{'backend':8} {'loop':24} {'steps/s':>9} {'time ratio vs hand-written':>27}")
    for backend_name in args.backends.split(","):
        try:
            rates = measure(backend_name, x, cfg)
        except MissingDependencyError as exc:
            print(f"{backend_name:8} skipped: {exc}")
            continue
        base = rates["hand-written"]
        for name, rate in rates.items():
            print(f"{backend_name:8} {name:24} {rate:9.0f} {base / rate:27.2f}")


if __name__ == "__main__":
    main()
