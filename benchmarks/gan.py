"""A GAN epoch through ``learn()`` vs a minimal hand-written GAN loop of the same networks, in
each backend, measured side by side in one run (target: our loop takes <= 1.2x the time).

    python benchmarks/gan.py [--backends torch,mxnet] [--epochs 1] [--repeats 3] [--limit 4000]

Networks: ``GANController.example(784, code_size=64, hidden=(256,))`` on MNIST-5k rows (dense
generator [64, 256, 784] with a sigmoid output, dense discriminator [784, 256, 1], leaky ReLUs,
Adam(1e-3, beta1 0.5) for both), batch 64. Both loops make one discriminator and one generator
update per real batch, reuse the batch's generated samples for the generator update, and start
from the same weights. The hand-written loop draws its noise with the framework's own generator
and keeps its losses on the device; ``learn()`` draws NumPy noise (the sampler is a part), reads
the losses and D(x), D(G(z)) for the history and evaluates nothing (no held-out data). Each loop
first runs untimed on two batches; then the best of ``repeats`` interleaved runs is reported.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import accelbrainbase as ab
from accelbrainbase.core.backends import get_backend
from accelbrainbase.core.errors import MissingDependencyError
from accelbrainbase.data import ArrayIterator, load_mnist5k


@dataclass
class Config:
    batch_size: int = 64
    noise: int = 64
    hidden: int = 256
    epochs: int = 1
    repeats: int = 3
    limit: int = 4000


def build(backend, cfg: Config):
    return backend.GANController.example(784, code_size=cfg.noise, hidden=(cfg.hidden,))


def hand_written_torch(model, x, cfg: Config) -> None:
    import torch
    import torch.nn.functional as F

    G, D = model.generator.network, model.discriminator.network
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    data = torch.from_numpy(x)
    G.train(), D.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(data))
        for i in range(0, len(data), cfg.batch_size):
            real = data[order[i:i + cfg.batch_size]]
            fake = G(torch.randn(len(real), cfg.noise))
            d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            g_loss = F.softplus(-D(fake)).mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()


def hand_written_mxnet(model, x, cfg: Config) -> None:
    from mxnet import autograd, gluon, nd

    G, D = model.generator.network, model.discriminator.network
    args = {"learning_rate": 1e-3, "beta1": 0.5}
    trainer_g, trainer_d = gluon.Trainer(G.collect_params(), "adam", args), gluon.Trainer(D.collect_params(), "adam", args)
    data = nd.array(x)
    for _ in range(cfg.epochs):
        order = nd.array(np.random.permutation(len(x)))
        for i in range(0, len(x), cfg.batch_size):
            real = nd.take(data, order[i:i + cfg.batch_size])
            with autograd.record():
                fake = G(nd.random.normal(shape=(real.shape[0], cfg.noise)))
                d_loss = (nd.mean(nd.Activation(-D(real), act_type="softrelu"))
                          + nd.mean(nd.Activation(D(fake.detach()), act_type="softrelu")))
            d_loss.backward()
            trainer_d.step(1)
            with autograd.record():
                g_loss = nd.mean(nd.Activation(-D(fake), act_type="softrelu"))
            g_loss.backward()
            trainer_g.step(1)
    nd.waitall()


HAND_WRITTEN = {"torch": hand_written_torch, "mxnet": hand_written_mxnet}


def train(loop: str, backend_name: str, model, x: np.ndarray, cfg: Config) -> float:
    start = time.perf_counter()
    if loop == "hand-written":
        HAND_WRITTEN[backend_name](model, x, cfg)
    else:
        model.learn(ArrayIterator(x, batch_size=cfg.batch_size, epochs=cfg.epochs, seed=0), progress=False)
    return time.perf_counter() - start


def measure(backend_name: str, x: np.ndarray, cfg: Config) -> dict:
    """Real images per second of each loop (best of ``cfg.repeats`` after an untimed warm-up)."""
    backend = get_backend(backend_name)
    ab.seed_everything(0)
    initial = build(backend, cfg).export_state()
    best = {"hand-written": np.inf, "learn()": np.inf}
    warm_up = Config(**{**cfg.__dict__, "epochs": 1})
    for loop in best:
        train(loop, backend_name, build(backend, cfg), x[:2 * cfg.batch_size], warm_up)
    for _ in range(cfg.repeats):
        for loop in best:
            model = build(backend, cfg)
            model.import_state(initial)
            best[loop] = min(best[loop], train(loop, backend_name, model, x, cfg))
    return {loop: cfg.epochs * len(x) / seconds for loop, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="torch,mxnet")
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--repeats", type=int, default=Config.repeats)
    parser.add_argument("--limit", type=int, default=Config.limit, help="training images used (at most 4000)")
    args = parser.parse_args()
    if min(args.epochs, args.repeats, args.limit) < 1:
        parser.error("--epochs, --repeats and --limit must be at least 1")
    cfg = Config(epochs=args.epochs, repeats=args.repeats, limit=args.limit)
    x = load_mnist5k().x_train[:cfg.limit]
    print(f"MNIST-5k: {len(x)} training images (784 values), batch {cfg.batch_size}, {cfg.epochs} epoch(s), "
          f"best of {cfg.repeats}\n")
    print(f"{'backend':8} {'loop':13} {'images/s':>9} {'time ratio vs hand-written':>27}")
    for backend_name in args.backends.split(","):
        try:
            get_backend(backend_name)
        except (MissingDependencyError, ImportError) as exc:
            print(f"{backend_name:8} skipped: {exc}")
            continue
        rates = measure(backend_name, x, cfg)
        base = rates["hand-written"]
        for loop, rate in rates.items():
            print(f"{backend_name:8} {loop:13} {rate:9.1f} {base / rate:27.2f}")


if __name__ == "__main__":
    main()
