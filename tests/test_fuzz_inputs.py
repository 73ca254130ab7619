"""Inputs never escape as raw exceptions: property-based tests (hypothesis) over the CSV and
image readers and ``accelbrainbase.load``. Whatever the file holds, a reader either returns
well-formed arrays (a model) or raises one of the project's own errors naming the file.

Every property runs a fixed number of derandomized examples, so the suite stays fast and CI is
deterministic; ``benchmarks/fuzz_inputs.py`` runs thousands of byte-mutated files instead.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tempfile
import zlib

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core import errors
from accelbrainbase.core.errors import InputError
from accelbrainbase.data import CSVExtractor, CSVIterator, ImageExtractor, ImageFolderIterator

hypothesis = pytest.importorskip("hypothesis")
Image = pytest.importorskip("PIL.Image")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROJECT_ERRORS = tuple(
    value for value in vars(errors).values()
    if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == errors.__name__
)
FUZZ = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def outcome(call, *names):
    """``call()``'s result, or None when it raised a project error whose message names one of
    ``names``; any other exception fails the test."""
    try:
        return call()
    except PROJECT_ERRORS as exc:
        assert any(str(name) in str(exc) for name in names), f"{type(exc).__name__} names no file: {exc}"
        return None


# ------------------------------------------------------------------------------------ CSV

CELLS = st.one_of(
    st.integers(-10**25, 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e39", "3.4e38", "", " ", "NA",
                     "null", "True", "0x1F", "1_000", "1,5", '"1"', '"a,b"', '"x""y"', '"\n"', '"', "'",
                     "caf\u00e9", "\u20ac", "\ufeff1", "\x00", "cat", "dog"]),
    st.text(max_size=4),
)
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]


@st.composite
def csv_files(draw):
    """(bytes, suffix, encoding to read with): tables with ragged rows, quotes, NaN/inf strings,
    a header or not, written in one encoding and maybe read in another, maybe gzipped."""
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(CELLS, min_size=max(1, width - 1), max_size=width + 1), max_size=6))
    lines = [",".join(row) for row in rows]
    if draw(st.booleans()):
        lines.insert(0, ",".join(draw(st.sampled_from(["a", "b", "label", '"q,r"', "caf\u00e9", "1"]))
                                 for _ in range(width)))
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n", "\n\n"]))
    written = draw(st.sampled_from(ENCODINGS))
    data = text.encode(written, errors="replace")
    read = draw(st.sampled_from([written, written, "utf-8"]))
    if draw(st.integers(0, 4)) == 0:
        return gzip.compress(data, mtime=0), ".csv.gz", read
    return data, ".csv", read


def read_every_way(path, encoding):
    """extract, extract_labeled and the CSV iterator; checks what each returns."""
    x = outcome(lambda: CSVExtractor(encoding=encoding).extract(path), path)
    if x is not None:
        assert x.dtype == np.float32 and x.ndim == 2 and x.size and np.isfinite(x).all()
    labelled = outcome(lambda: CSVExtractor(label_column=-1, encoding=encoding).extract_labeled(path), path)
    if labelled is not None:
        features, y = labelled
        assert features.dtype == np.float32 and features.ndim == 2 and np.isfinite(features).all()
        assert len(y) == len(features) and y.dtype in (np.int64, np.float32)
        assert np.isfinite(y.astype(np.float64)).all()
    it = outcome(lambda: CSVIterator(path, label_column=-1, encoding=encoding, test_size=0.3,
                                     batch_size=2, epochs=1, seed=0), path)
    if it is not None:
        assert sum(len(b.inputs) for b in it.generate_learned_samples()) == it.n_train


@FUZZ
@given(csv_files())
def test_csv_readers_return_arrays_or_project_errors(file):
    data, suffix, encoding = file
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "table" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        read_every_way(path, encoding)


@FUZZ
@given(st.binary(max_size=200), st.sampled_from([".csv", ".csv.gz"]))
def test_csv_readers_on_arbitrary_bytes(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bytes" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        read_every_way(path, "utf-8")


def test_csv_decoding_error_names_encoding_byte_offset_and_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\n1,2\n3,4\n".encode() + "5,caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin.csv' is not valid utf-8: byte 0xe9 at offset 17 \(line 4\)"):
        CSVExtractor().extract(path)
    with pytest.raises(InputError, match="column 'b' .* must be numeric.*'caf\u00e9'"):
        CSVExtractor(encoding="latin-1").extract(path)  # decoded; the word is then not a number
    # pandas decodes in buffers of 256 KiB; the offset is counted from the start of the file
    rows = "".join(f"{i},{i + 1}\n" for i in range(40000)).encode()
    big = tmp_path / "big.csv.gz"
    big.write_bytes(gzip.compress(rows + b"7,\xff8\n", mtime=0))
    with pytest.raises(InputError, match=rf"byte 0xff at offset {len(rows) + 2} of the decompressed data "
                                         r"\(line 40001\)"):
        CSVExtractor().extract(big)


def test_csv_encoding_argument(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes("caf\u00e9,\u00fcber\n1,2\n3,4\n".encode("utf-16"))
    x = CSVExtractor(encoding="utf-16").extract(path)
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    it = CSVIterator(path, encoding="utf-16", label_column="\u00fcber", batch_size=2, seed=0)
    np.testing.assert_array_equal(np.sort(it.y_train), [2, 4])
    with pytest.raises(InputError, match="wide.csv' is not valid utf-8: byte 0xff at offset 0"):
        CSVExtractor().extract(path)
    with pytest.raises(InputError, match="unknown encoding 'utf-42'"):
        CSVExtractor(encoding="utf-42")
    assert "encoding='utf-16'" in repr(CSVExtractor(encoding="utf-16"))


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("a,b,c\n", "has no data rows"),
    ("1,2\n3,inf\n", "an infinite value in data row 1 .*column 1"),
    ("1,2\n3,1e39\n", "a value beyond float32's range \\(1e\\+39\\) in data row 1"),
    ("1,2\n3,nan\n", "a missing value \\(NaN\\) in data row 1"),
    ("1,2\n3,4,5\n", "cannot be parsed.*Expected 2 fields in line 2, saw 3"),
    ("x,y\n1,2\n3,99999999999999999999999\n", None),  # beyond int64: read as a float
])
def test_csv_edge_cases(tmp_path, text, message):
    path = tmp_path / "edge.csv"
    path.write_text(text)
    if message is None:
        np.testing.assert_allclose(CSVExtractor().extract(path), [[1, 2], [3, 1e23]], rtol=1e-6)
        return
    with pytest.raises(InputError, match=message) as info:
        CSVExtractor().extract(path)
    assert "edge.csv" in str(info.value)


def test_csv_labels_must_be_finite_and_features_present(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("a,y\n1,0\n2,inf\n")
    with pytest.raises(InputError, match="labels.csv' has the label inf in data row 1"):
        CSVExtractor(label_column="y").extract_labeled(path)
    only = tmp_path / "only.csv"
    only.write_text("y\n0\n1\n")
    with pytest.raises(InputError, match="only.csv' has no feature columns besides the label column"):
        CSVExtractor(label_column=0).extract_labeled(only)
    huge = tmp_path / "huge.csv"
    huge.write_text("a,y\n1,1e20\n2,3\n")
    _, y = CSVExtractor(label_column="y").extract_labeled(huge)
    assert y.dtype == np.float32  # integral but beyond int64: a regression target, not a class


def test_csv_iterator_errors_name_the_file(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("1,2,0\n")
    with pytest.raises(InputError, match="at least 2 samples.*data read from '.*one.csv'"):
        CSVIterator(path, label_column=-1, test_size=0.5)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text("1,2,0\n3,4,1\n")
    test.write_text("1,0\n")
    with pytest.raises(errors.ShapeError, match="test_x samples have shape .*'.*train.csv' and '.*test.csv'"):
        CSVIterator(train, label_column=-1, test_path=test)


# ------------------------------------------------------------------------------------ images

def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header (with a valid checksum) declares ``width`` x ``height`` gray pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def repair_png(data: bytes) -> bytes:
    out, pos = bytearray(data[:8]), 8
    while pos + 12 <= len(data):
        end = pos + 8 + int.from_bytes(data[pos:pos + 4], "big")
        if end + 4 > len(data):
            break
        out += data[pos:end] + zlib.crc32(data[pos + 4:end]).to_bytes(4, "big")
        pos = end + 4
    return bytes(out + data[pos:])


MODES_FORMATS = [("L", "PNG"), ("RGB", "PNG"), ("RGBA", "PNG"), ("P", "PNG"), ("1", "PNG"), ("I;16", "PNG"),
                 ("LA", "PNG"), ("I", "TIFF"), ("F", "TIFF"), ("CMYK", "TIFF"), ("LAB", "TIFF"),
                 ("RGB", "BMP"), ("P", "GIF"), ("RGB", "JPEG"), ("CMYK", "JPEG"), ("L", "PPM")]


@st.composite
def image_files(draw):
    """(bytes, suffix): an image of any mode and common format, then truncated and/or with
    bytes overwritten (PNG checksums repaired half the time so the decoder sees the damage)."""
    mode, fmt = draw(st.sampled_from(MODES_FORMATS))
    width, height = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    pixels = np.frombuffer(draw(st.binary(min_size=width * height, max_size=width * height)), np.uint8)
    image = Image.fromarray(pixels.reshape(height, width)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    data = bytearray(buffer.getvalue())
    for position, value in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)),
                                         max_size=4)):
        data[position] = value
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))):]
    if fmt == "PNG" and draw(st.booleans()):
        data = bytearray(repair_png(bytes(data)))
    return bytes(data), "." + fmt.lower()


@FUZZ
@given(image_files(), st.sampled_from(["L", "RGB"]), st.sampled_from([None, (4, 5)]))
def test_image_readers_return_images_or_project_errors(file, mode, size):
    data, suffix = file
    channels = 1 if mode == "L" else 3
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "picture" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        image = outcome(lambda: ImageExtractor(size=size, mode=mode).extract(path), "picture")
        if image is not None:
            assert image.dtype == np.float32 and image.ndim == 3 and image.shape[0] == channels
            assert size is None or image.shape[1:] == size
            assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
        root = os.path.join(folder, "root")
        for label in ("a", "b"):
            os.makedirs(os.path.join(root, label))
        Image.new("RGB", (3, 3), (10, 200, 30)).save(os.path.join(root, "a", "good.png"))
        with open(os.path.join(root, "b", "picture" + suffix), "wb") as handle:
            handle.write(data)
        it = outcome(lambda: ImageFolderIterator(root, size=(4, 4), mode=mode, batch_size=2, seed=0), "picture")
        if it is not None:
            assert it.n_train == 2 and it.sample_shape == (channels, 4, 4)
            np.testing.assert_array_equal(np.sort(it.y_train), [0, 1])


@pytest.mark.parametrize("data, message", [
    (b"", "is empty \\(0 bytes\\)"),
    (png_declaring(0, 5), "cannot read image .*cannot identify"),  # Pillow refuses zero width
    (png_declaring(10000, 10000), "is too large.*100000000 pixels.*MAX_IMAGE_PIXELS"),
    (png_declaring(2**31 - 1, 2**31 - 1), "is too large"),
    (png_declaring(8, 8), "cannot read image .*(truncated|broken)"),  # 64 bytes do not fill 8 rows
], ids=["zero-bytes", "zero-width", "bomb-warning", "bomb-error", "truncated"])
def test_image_edge_cases(tmp_path, data, message):
    path = tmp_path / "edge.png"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message) as info:
        ImageExtractor().extract(path)
    assert "edge.png" in str(info.value)


def test_images_of_other_modes_are_converted(tmp_path):
    gray = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    Image.fromarray(gray.astype(np.int32)).save(tmp_path / "deep.tiff")  # mode "I"
    Image.fromarray(gray.astype(np.float32) / 60000).save(tmp_path / "float.tiff")  # mode "F"
    Image.new("CMYK", (4, 3), (0, 255, 0, 0)).save(tmp_path / "ink.tiff")
    for name in ("deep.tiff", "float.tiff", "ink.tiff"):
        for mode, channels in (("L", 1), ("RGB", 3)):
            image = ImageExtractor(mode=mode).extract(tmp_path / name)
            assert image.shape == (channels, 3, 4) and image.min() >= 0 and image.max() <= 1
    np.testing.assert_allclose(ImageExtractor(mode="RGB").extract(tmp_path / "ink.tiff")[:, 0, 0], [1, 0, 1])


# ------------------------------------------------------------------------------------ load

_SAVED: dict = {}
PROBE = np.linspace(0, 1, 16, dtype=np.float32).reshape(2, 8)


def saved_model(backend):
    """(model.json bytes, weights name, weights bytes, its predictions of PROBE) of a tiny
    trained AutoEncoder, once per backend."""
    name = backend.__name__
    if name not in _SAVED:
        from accelbrainbase import seed_everything
        from accelbrainbase.data import ArrayIterator

        seed_everything(0)
        model = backend.networks.AutoEncoder.example(8, code_size=2, hidden=(4,))
        x = np.random.default_rng(0).random((16, 8)).astype(np.float32)
        model.learn(ArrayIterator(x, batch_size=8, epochs=1, seed=0, test_size=0.25), progress=False)
        with tempfile.TemporaryDirectory() as folder:
            model.save(folder)
            weights = next(n for n in os.listdir(folder) if n.endswith(".safetensors"))
            with open(os.path.join(folder, "model.json"), "rb") as handle:
                manifest = handle.read()
            with open(os.path.join(folder, weights), "rb") as handle:
                _SAVED[name] = (manifest, weights, handle.read(), model.predict(PROBE))
    return _SAVED[name]


def load_or_error(backend, manifest: bytes, weights: bytes):
    """``accelbrainbase.load`` on a folder holding ``manifest`` and ``weights``: the model's
    predictions of PROBE or None after a project error naming model.json or the weights file."""
    _, weights_name, _, _ = saved_model(backend)
    with tempfile.TemporaryDirectory() as folder:
        for name, data in (("model.json", manifest), (weights_name, weights)):
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
        model = outcome(lambda: ab.load(folder, backend=backend.__name__.split(".")[1]),
                        "model.json", weights_name)
        return None if model is None else model.predict(PROBE)


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40), st.floats(allow_nan=True), st.text(max_size=6),
    st.sampled_from(["accelbrainbase.torch.networks:NeuralNetworks", "os:system", "../../etc/passwd",
                     "weights-.safetensors", "cuda:7", "relu"]),
    st.lists(st.integers(-2, 9), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just({"class": "builtins:eval", "config": {}}),
)


def _paths(node, prefix=()):
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


@FUZZ
@given(st.data())
def test_load_with_a_damaged_manifest(backend, data):
    manifest, _, weights, _ = saved_model(backend)
    doc = json.loads(manifest)
    paths = sorted(_paths(doc), key=repr)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent[path[-1]] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):  # an earlier edit removed or replaced this path
            continue
    text = json.dumps(doc).encode()
    damage = data.draw(st.sampled_from(["none", "truncate", "byte", "wrap"]))
    if damage == "truncate":
        text = text[:data.draw(st.integers(0, len(text) - 1))]
    elif damage == "byte":
        position = data.draw(st.integers(0, len(text) - 1))
        text = text[:position] + bytes([data.draw(st.integers(0, 255))]) + text[position + 1:]
    elif damage == "wrap":
        text = data.draw(st.sampled_from([b"[" + text + b"]", b"null", b'"model"', b"[" * 100000]))
    load_or_error(backend, text, weights)


def test_load_errors_name_the_manifest(backend, tmp_path):
    manifest, weights_name, weights, expected = saved_model(backend)
    doc = json.loads(manifest)
    cases = [
        (b"\xff" + manifest, "model.json is not UTF-8 text: byte 0xff at offset 0"),
        (manifest[:40], "model.json is not valid JSON"),
        (b"[1, 2]", "model.json must hold a JSON object, got list"),
        (json.dumps({k: v for k, v in doc.items() if k != "config"}).encode(), "model.json lacks the key 'config'"),
        (json.dumps(dict(doc, weights=["w"])).encode(), "model.json: 'weights' must be a string"),
        (json.dumps(dict(doc, weights="../" + weights_name)).encode(), "must name a file inside the model folder"),
        (json.dumps(dict(doc, weights="weights-gone.safetensors")).encode(), "weights-gone.safetensors named in"),
        (json.dumps(dict(doc, history=[{"loss": 1}])).encode(), "history row 0 must be an object with an integer"),
        (json.dumps(dict(doc, config=dict(doc["config"], encoder=7))).encode(),
         "model.json: cannot rebuild .*AutoEncoder from its config"),
    ]
    for text, message in cases:
        (tmp_path / "model.json").write_bytes(text)
        (tmp_path / weights_name).write_bytes(weights)
        with pytest.raises(InputError, match=message):
            ab.load(tmp_path)
    np.testing.assert_allclose(load_or_error(backend, manifest, weights), expected, rtol=1e-6)


SAFETENSORS_DTYPES = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64",
                      "C64", "F8_E4M3", "F8_E5M2", "F4"]


@FUZZ
@given(st.data())
def test_load_with_damaged_weights(backend, data):
    manifest, _, weights, _ = saved_model(backend)
    n = int.from_bytes(weights[:8], "little")
    header, body = json.loads(weights[8:8 + n]), weights[8 + n:]
    names = sorted(k for k in header if k != "__metadata__")
    for _ in range(data.draw(st.integers(0, 3))):
        entry = header[data.draw(st.sampled_from(names))]
        field = data.draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
        if field == "dtype":
            entry["dtype"] = data.draw(st.sampled_from(SAFETENSORS_DTYPES))
        elif field == "shape":
            entry["shape"] = data.draw(st.sampled_from(
                [[], [0], [2**40, 2**40], [2**62], [2**64], [-1], [4, 2], [2, 4], [1, 1, 1], ["3"], None]))
        else:
            entry["data_offsets"] = data.draw(st.sampled_from(
                [[0, 2**60], [0, 0], [5, 1], [0, len(body) + 4], [-4, 8], [0], "x"]))
    text = json.dumps(header).encode()
    declared = data.draw(st.sampled_from([len(text), len(text), 0, 7, 2**60, 2**64 - 1, len(text) + 3]))
    blob = declared.to_bytes(8, "little") + text + body
    if data.draw(st.booleans()):
        blob = blob[:data.draw(st.integers(0, len(blob)))]
    load_or_error(backend, manifest, blob)


def _safetensors(arrays):
    from safetensors.numpy import save

    return save({k: np.ascontiguousarray(v) for k, v in arrays.items()})


def test_weights_of_wrong_shapes_dtypes_or_names(backend):
    from safetensors.numpy import load

    manifest, weights_name, weights, expected = saved_model(backend)
    state = load(weights)
    as_f64 = load_or_error(backend, manifest, _safetensors({k: v.astype(np.float64) for k, v in state.items()}))
    np.testing.assert_allclose(as_f64, expected, rtol=1e-6)
    first = next(iter(state))
    complex_state = dict(state, **{first: state[first].astype(np.complex64)})

    for arrays, message in [
        (complex_state, f"{weights_name}: tensor '{first}' has dtype complex64; expected real numbers"),
        (dict(state, **{first: state[first].T.copy() if state[first].ndim == 2 else state[first][:1]}),
         f"{weights_name} does not fit the model described in .*model.json: state '{first}' has shape"),
        ({k: v for k, v in state.items() if k != first}, f"{weights_name} does not fit .*missing \\['{first}'\\]"),
    ]:
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "model.json"), "wb") as handle:
                handle.write(manifest)
            with open(os.path.join(folder, weights_name), "wb") as handle:
                handle.write(_safetensors(arrays))
            with pytest.raises(InputError, match=message):
                ab.load(folder)
    huge = json.dumps({first: {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 2**62]}}).encode()
    for blob in (len(huge).to_bytes(8, "little") + huge, (2**60).to_bytes(8, "little") + huge, weights[:100]):
        with tempfile.TemporaryDirectory() as folder:
            with open(os.path.join(folder, "model.json"), "wb") as handle:
                handle.write(manifest)
            with open(os.path.join(folder, weights_name), "wb") as handle:
                handle.write(blob)
            with pytest.raises(InputError, match=f"weights file .*{weights_name} is damaged or not a safetensors"):
                ab.load(folder)
