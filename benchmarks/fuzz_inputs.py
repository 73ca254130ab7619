"""Byte-level fuzzing of the readers: mutated copies of valid CSV, PNG, ``model.json`` and
safetensors weights files go through the public readers, and every outcome is counted. Only the
project's own errors (``accelbrainbase.core.errors``) may escape, and each must name the file.

    python benchmarks/fuzz_inputs.py [--files 3000] [--seed 0] [--readers csv.extract,...] [--show 2]

Each file is a valid seed file with 1 to 8 byte mutations (bit flips, random or "interesting"
bytes such as ``\\xff``, quotes, ``nan``, ``inf``; insertions, deletions, duplicated runs,
truncation). Half of the mutated PNGs get their chunk checksums repaired and half of the
mutated weights files get a mutated header with a repaired length prefix or a header whose
dtype, shape or offsets were changed, so that the readers see more than a checksum error; half
of the mutated ``model.json`` files get one value replaced by another type or one key removed.
Prints one row per reader: files tried, loaded, project errors (and how many of those do not
name the file), raw exceptions by type. Exit status 1 when a raw exception escaped or a
project error did not name the file.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import io
import json
import os
import random
import shutil
import tempfile
import time
import traceback
import warnings
import zlib
from typing import Callable, Dict, List, Tuple

import numpy as np

from accelbrainbase.core import errors

PROJECT_ERRORS = tuple(
    value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, Exception)
    and value.__module__ == errors.__name__
)
INTERESTING = [
    b"\x00", b"\xff", b"\x80", b"\xc3", b"\xe2\x82", b"\xef\xbb\xbf", b"\xff\xfe", b'"', b"'", b",",
    b";", b"\n", b"\r", b"\t", b" ", b"nan", b"NaN", b"inf", b"-inf", b"1e400", b"-", b".", b"e",
    b"99", b"\\", b"{", b"}", b"[", b"]", b":", b"null", b"true", b"-1", b"0",
]


# ------------------------------------------------------------------------------- mutations

def mutate(data: bytes, rng: random.Random) -> bytes:
    """1 to 8 random byte edits of ``data``."""
    buf = bytearray(data)
    for _ in range(1 + min(7, int(rng.expovariate(0.7)))):
        op = rng.randrange(7)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 2:
            buf[pos:pos] = rng.choice(INTERESTING)
        elif op == 3:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 4:
            del buf[pos:pos + rng.randint(1, 16)]
        elif op == 5 and buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start:start + rng.randint(1, 32)]
        elif op == 6:
            del buf[pos:]
    return bytes(buf)


def repair_png(data: bytes) -> bytes:
    """Recompute the CRC of every whole chunk (a mutated PNG otherwise fails its checksum)."""
    out, pos = bytearray(data[:8]), 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        end = pos + 8 + length
        if end + 4 > len(data):
            break
        out += data[pos:end] + zlib.crc32(data[pos + 4:end]).to_bytes(4, "big")
        pos = end + 4
    return bytes(out + data[pos:])


def mutate_png(data: bytes, rng: random.Random) -> bytes:
    mutated = mutate(data, rng)
    return repair_png(mutated) if rng.random() < 0.5 else mutated


def _split_safetensors(data: bytes) -> Tuple[bytes, bytes]:
    n = int.from_bytes(data[:8], "little")
    return data[8:8 + n], data[8 + n:]


def mutate_safetensors(data: bytes, rng: random.Random) -> bytes:
    mode = rng.randrange(3)
    if mode == 0:
        return mutate(data, rng)
    header, body = _split_safetensors(data)
    if mode == 1:
        header = mutate(header, rng)
    else:
        meta = json.loads(header)
        name = rng.choice([k for k in meta if k != "__metadata__"])
        entry = meta[name]
        field = rng.choice(["dtype", "shape", "data_offsets", "drop"])
        if field == "dtype":
            entry["dtype"] = rng.choice(["F64", "F16", "BF16", "I8", "U8", "I64", "BOOL", "F8_E4M3", "C64", "X"])
        elif field == "shape":
            entry["shape"] = rng.choice([[], [0], [2**40, 2**40], [2**62], [-1], [1, 1, 1], ["3"]])
        elif field == "data_offsets":
            entry["data_offsets"] = rng.choice([[0, 2**60], [0, 0], [5, 1], [0, len(body) + 4], [-4, 8]])
        else:
            del meta[name]
        header = json.dumps(meta).encode()
    return len(header).to_bytes(8, "little") + header + body


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return mutate(data, rng)
    doc = json.loads(data)
    paths: List[Tuple[object, object]] = []

    def walk(node):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            paths.append((node, key))
            walk(value)

    walk(doc)
    node, key = rng.choice(paths)
    if isinstance(node, dict) and rng.random() < 0.3:
        del node[key]
    else:
        node[key] = rng.choice([None, -1, 0, 3, 1.5, "x", "", [], {}, True, 2**70, [1, "a"],
                                {"class": "os:system", "config": {}}, "../model.json"])
    return json.dumps(doc).encode()


# ------------------------------------------------------------------------------- seed files

def csv_seeds() -> Dict[str, bytes]:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(8, 3)).round(3)
    labels = [0, 1] * 4
    headed = "f1,f2,f3,label\n" + "".join(f"{a},{b},{c},{y}\n" for (a, b, c), y in zip(rows, labels))
    bare = "".join(f"{a:.3e},{b},{c},{y}\n" for (a, b, c), y in zip(rows, labels))
    quoted = 'x1,"x2",x3,"kind"\n' + "".join(
        f'{a},"{b}",{c},"{k}"\n' for (a, b, c), k in zip(rows, ["dog", "cat"] * 4))
    return {"headed.csv": headed.encode(), "bare.csv": bare.encode(), "quoted.csv": quoted.encode(),
            "packed.csv.gz": gzip.compress(headed.encode(), mtime=0)}


def png_seeds() -> Dict[str, bytes]:
    from PIL import Image

    gradient = (np.arange(6 * 5).reshape(5, 6) * 8).astype(np.uint8)
    images = {
        "gray.png": Image.fromarray(gradient, "L"),
        "rgb.png": Image.fromarray(np.stack([gradient, gradient[::-1], 255 - gradient], -1), "RGB"),
        "rgba.png": Image.fromarray(np.stack([gradient] * 4, -1), "RGBA"),
        "palette.png": Image.fromarray(gradient, "L").convert("P"),
        "bits.png": Image.fromarray(gradient > 100),
        "deep.png": Image.fromarray(gradient.astype(np.uint16) * 200).convert("I;16"),
    }
    out = {}
    for name, image in images.items():
        buffer = io.BytesIO()
        image.save(buffer, "PNG", interlace=name == "rgb.png")
        out[name] = buffer.getvalue()
    return out


def saved_model(folder: str) -> Tuple[str, str]:
    """A small trained torch AutoEncoder saved in ``folder``; returns (model.json, weights file)."""
    from accelbrainbase.data import ArrayIterator
    from accelbrainbase.torch.networks import AutoEncoder

    from accelbrainbase import seed_everything

    seed_everything(0)
    model = AutoEncoder.example(8, code_size=2, hidden=(4,))
    x = np.random.default_rng(0).random((16, 8)).astype(np.float32)
    model.learn(ArrayIterator(x, batch_size=8, epochs=1, seed=0, test_size=0.25), progress=False)
    model.save(folder)
    weights = next(n for n in os.listdir(folder) if n.endswith(".safetensors"))
    return os.path.join(folder, "model.json"), os.path.join(folder, weights)


# ------------------------------------------------------------------------------- readers

class Reader:
    """``run(target)`` reads ``target``; ``place(work, name, data)`` writes the mutated file and
    returns (target, the mutated file's name)."""

    def __init__(self, name: str, seeds: Dict[str, bytes], mutator: Callable, run: Callable,
                 place: Callable | None = None):
        self.name, self.seeds, self.mutator, self.run = name, seeds, mutator, run
        self.place = place or self._place_file

    @staticmethod
    def _place_file(work: str, name: str, data: bytes) -> Tuple[str, str]:
        path = os.path.join(work, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return path, name


def csv_readers() -> List[Reader]:
    from accelbrainbase.data import CSVExtractor, CSVIterator

    def iterate(path):
        it = CSVIterator(path, label_column=-1, batch_size=4, epochs=1, test_size=0.25, seed=0)
        return [b.inputs.shape for b in it.generate_learned_samples()]

    seeds = csv_seeds()
    return [
        Reader("CSVExtractor.extract", seeds, mutate, lambda p: CSVExtractor().extract(p)),
        Reader("CSVExtractor.extract_labeled", seeds, mutate,
               lambda p: CSVExtractor(label_column=-1).extract_labeled(p)),
        Reader("CSVIterator", seeds, mutate, iterate),
    ]


def image_readers() -> List[Reader]:
    from accelbrainbase.data import ImageExtractor, ImageFolderIterator

    seeds = png_seeds()
    good = seeds["rgb.png"]

    def place_folder(work, name, data):
        root = os.path.join(work, "root")
        for sub in ("a", "b"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        with open(os.path.join(root, "a", "good.png"), "wb") as handle:
            handle.write(good)
        with open(os.path.join(root, "b", name), "wb") as handle:
            handle.write(data)
        return root, name

    return [
        Reader("ImageExtractor.extract", seeds, mutate_png, lambda p: ImageExtractor(mode="RGB").extract(p)),
        Reader("ImageFolderIterator", seeds, mutate_png,
               lambda root: ImageFolderIterator(root, size=(8, 8), mode="L", batch_size=2, seed=0).n_train,
               place_folder),
    ]


def load_readers(base: str) -> List[Reader]:
    import accelbrainbase as ab

    manifest, weights = saved_model(os.path.join(base, "model"))

    def placer(which):
        def place(work, name, data):
            folder = os.path.join(work, "model")
            shutil.copytree(os.path.dirname(manifest), folder)
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
            return folder, name
        return place

    def run(folder):
        model = ab.load(folder)
        return model.predict(np.zeros((2, 8), np.float32)) if hasattr(model, "predict") else model

    with open(manifest, "rb") as handle:
        manifest_bytes = handle.read()
    with open(weights, "rb") as handle:
        weights_bytes = handle.read()
    return [
        Reader("load (model.json)", {"model.json": manifest_bytes}, mutate_json, run, placer("json")),
        Reader("load (weights)", {os.path.basename(weights): weights_bytes}, mutate_safetensors, run,
               placer("weights")),
    ]


# ------------------------------------------------------------------------------- the loop

class Tally:
    def __init__(self):
        self.tried = self.loaded = self.project = self.unnamed = 0
        self.raw: collections.Counter = collections.Counter()
        self.examples: Dict[str, List[str]] = collections.defaultdict(list)
        self.seconds = 0.0


def fuzz(reader: Reader, n_files: int, seed: int, base: str) -> Tally:
    rng = random.Random(f"{seed}:{reader.name}")
    tally = Tally()
    names = sorted(reader.seeds)
    start = time.perf_counter()
    for i in range(n_files):
        name = names[i % len(names)]
        data = reader.mutator(reader.seeds[name], rng)
        work = tempfile.mkdtemp(dir=base)
        try:
            target, mutated_name = reader.place(work, name, data)
            tally.tried += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reader.run(target)
                tally.loaded += 1
            except PROJECT_ERRORS as exc:
                tally.project += 1
                if mutated_name not in str(exc):
                    tally.unnamed += 1
                    tally.examples["(no file name) " + type(exc).__name__].append(f"{name}: {exc}")
            except Exception as exc:  # noqa: BLE001 - counting what escapes is the point
                kind = type(exc).__module__ + "." + type(exc).__name__
                kind = kind.replace("builtins.", "")
                tally.raw[kind] += 1
                where = traceback.extract_tb(exc.__traceback__)[-1]
                tally.examples[kind].append(
                    f"{name}: {str(exc)[:160]!r} at {os.path.basename(where.filename)}:{where.lineno}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    tally.seconds = time.perf_counter() - start
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000, help="mutated files per reader")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readers", default="", help="comma-separated reader names (default: all)")
    parser.add_argument("--show", type=int, default=2, help="examples printed per escaped type")
    args = parser.parse_args()

    base = tempfile.mkdtemp(prefix="fuzz_inputs-")
    try:
        readers = csv_readers() + image_readers() + load_readers(base)
        if args.readers:
            wanted = set(args.readers.split(","))
            readers = [r for r in readers if r.name in wanted]
        print(f"{args.files} mutated files per reader, seed {args.seed}\n")
        header = f"{'reader':30} {'tried':>6} {'loaded':>7} {'project error':>14} {'no file name':>13}  raw exceptions"
        print(header)
        print("-" * len(header))
        failed = False
        tallies = []
        for reader in readers:
            tally = fuzz(reader, args.files, args.seed, base)
            tallies.append((reader, tally))
            raw = ", ".join(f"{k} {v}" for k, v in tally.raw.most_common()) or "none"
            print(f"{reader.name:30} {tally.tried:6d} {tally.loaded:7d} {tally.project:14d} "
                  f"{tally.unnamed:13d}  {raw}   ({tally.seconds:.0f} s)", flush=True)
            failed |= bool(tally.raw) or bool(tally.unnamed)
        if args.show:
            for reader, tally in tallies:
                for kind, examples in sorted(tally.examples.items()):
                    print(f"\n{reader.name} / {kind}:")
                    for example in examples[:args.show]:
                        print("   ", example)
        return 1 if failed else 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
