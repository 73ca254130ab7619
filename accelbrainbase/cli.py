"""The ``accelbrainbase`` console script: ``demo`` and ``compare``."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from accelbrainbase.core.backends import BACKENDS
from accelbrainbase.core.errors import InputError, MissingDependencyError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accelbrainbase", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="train one model on real data and show the results")
    demo.add_argument("name", choices=["autoencoder", "rbm", "dbm", "encdec-ad", "cae", "gan"])
    demo.add_argument("--model", choices=["gan", "cgan", "aae", "ebgan", "ebaae", "vae"], default=None,
                      help="gan demo only: which generative model (default gan)")
    demo.add_argument("--backend", choices=BACKENDS, default="torch")
    demo.add_argument("--epochs", type=int, default=60)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default=None, help="folder for the PNGs (default out/demo-NAME)")
    demo.add_argument("--no-progress", action="store_true")

    compare = sub.add_parser("compare", help="train every registered model for a problem setting")
    compare.add_argument("setting", choices=["representation", "anomaly-detection", "classification", "generation"])
    compare.add_argument("--backends", default=",".join(BACKENDS),
                         help="comma-separated, from: " + ", ".join(BACKENDS))
    compare.add_argument("--data", choices=["digits", "mnist5k", "fashion-mnist", "ecg5000", "synthetic", "ring"],
                         default=None, help="default: digits (representation, classification, generation), "
                         "ecg5000 (anomaly-detection); ring (the 2-D ring of 8 Gaussians) for generation")
    compare.add_argument("--epochs", type=int, default=60)
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--labels-per-class", type=int, default=None,
                         help="classification only: keep this many training labels per class (the rest "
                              "unlabelled) and compare the semi-supervised ladder networks with the same "
                              "networks, and the other models, trained on the labelled part only")
    compare.add_argument("--json", default=None, help="also write the rows to this JSON file")
    compare.add_argument("--out", default=None, help="folder for the PNG")
    compare.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.epochs < 1:
        print("error: --epochs must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.command == "demo":
            from accelbrainbase.workbench.demos import run_demo

            extra = {} if args.model is None else {"model": args.model}
            run_demo(args.name, backend=args.backend, epochs=args.epochs, seed=args.seed,
                     out=args.out or f"out/demo-{args.name}", progress=not args.no_progress, **extra)
        else:
            from accelbrainbase.workbench.compare import compare

            backends = [b.strip() for b in args.backends.split(",") if b.strip()]
            compare(args.setting, backends=backends, data=args.data, epochs=args.epochs,
                    seed=args.seed, out=args.out, json_path=args.json, progress=not args.no_progress,
                    labels_per_class=args.labels_per_class)
    except (InputError, MissingDependencyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
