"""Auto-encoder on scikit-learn's digits: test reconstruction MSE next to the mean image and PCA.

    python demo/autoencoder_digits.py --backend torch --epochs 60

Top to bottom, hyper-parameters in one dataclass. The CLI's ``accelbrainbase demo autoencoder``
runs the same experiment through the workbench.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

import numpy as np

import accelbrainbase as ab
from accelbrainbase.core.backends import get_backend
from accelbrainbase.core.plotting import plot_image_rows
from accelbrainbase.data import MaskingNoise, load_digits


@dataclass
class Args:
    backend: str = "torch"
    epochs: int = 60
    batch_size: int = 32
    code_size: int = 16
    hidden: int = 48
    learning_rate: float = 1e-3
    masking: float = 0.0  # > 0: a denoising auto-encoder (fraction of inputs zeroed)
    seed: int = 0
    out: str = "out/demo-autoencoder-digits"


def parse() -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return Args(**vars(parser.parse_args()))


args = parse()
ab.seed_everything(args.seed)
backend = get_backend(args.backend)
data = load_digits()

# 1. the model: 64 -> hidden -> code -> hidden -> 64, sigmoid output for pixels in [0, 1]
model = backend.AutoEncoder.dense([64, args.hidden, args.code_size],
                                  optimizer=ab.OptimizerSpec("adam", learning_rate=args.learning_rate))
noise = MaskingNoise(args.masking, seed=args.seed) if args.masking else None

# 2. learning, with held-out evaluation each epoch and early stopping on the test loss
iterator = data.iterator(batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
                         noiseable_data=noise, labels=False)
model.learn(iterator, callbacks=[ab.EarlyStopping(patience=5)])

# 3. numbers next to baselines fitted on the same training data
from sklearn.decomposition import PCA  # noqa: E402

pca = PCA(args.code_size).fit(data.x_train)
mse = {
    "auto-encoder": np.mean((model.inference(data.x_test) - data.x_test) ** 2),
    f"PCA({args.code_size})": np.mean((pca.inverse_transform(pca.transform(data.x_test)) - data.x_test) ** 2),
    "mean image": np.mean((data.x_train.mean(0) - data.x_test) ** 2),
}
for name, value in mse.items():
    print(f"{name:14s} test MSE {value:.5f}")

# 4. pictures
os.makedirs(args.out, exist_ok=True)
x = data.x_test[:12]
plot_image_rows([x, model.inference(x)], ["original", "reconstructed"], data.image_shape,
                os.path.join(args.out, "reconstructions.png"))
model.history_.plot(os.path.join(args.out, "loss.png"))
print(f"pictures in {args.out}/")
