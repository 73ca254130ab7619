"""Readers from files to NumPy arrays: CSV tables (pandas) and images (Pillow)."""
from __future__ import annotations

import codecs
import gzip
import os
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import ExtractableData
from accelbrainbase.core.validation import check_choice, check_positive
from accelbrainbase.data._common import check_installed, require

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def _existing(path: Any, what: str, *, folder: bool | None = None) -> Path:
    p = Path(os.fspath(path))
    if not p.exists():
        raise FileNotFoundError(f"{what} not found: {str(p)!r}")
    if folder is True and not p.is_dir():
        raise InputError(f"{what} must be a folder, got the file {str(p)!r}")
    if folder is False and not p.is_file():
        raise InputError(f"{what} must be a file, got the folder {str(p)!r}")
    return p


def _decoding_failure(p: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    """Where ``p`` (decompressed if .gz) stops being valid ``encoding``: byte, offset and line.

    pandas reports positions inside its read buffer, so the file is decoded again here to give
    the offset from the start of the file.
    """
    try:
        with (gzip.open(p, "rb") if p.suffix.lower() == ".gz" else open(p, "rb")) as handle:
            data = handle.read()
        data.decode(encoding)
    except UnicodeDecodeError as found:
        exc, start = found, found.start
        line = data.count(b"\n", 0, start) + 1
        of = " of the decompressed data" if p.suffix.lower() == ".gz" else ""
        where = f"byte 0x{data[start]:02x} at offset {start}{of} (line {line})"
    except (OSError, EOFError, zlib.error):
        where = f"byte 0x{exc.object[exc.start]:02x}"
    else:  # pandas decoded a buffer differently (e.g. a byte-order mark); report its position
        where = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start} of a read buffer"
    return (f"CSV file {str(p)!r} is not valid {encoding}: {where} cannot be decoded ({exc.reason}); "
            "pass encoding=... (e.g. 'latin-1' or 'utf-16') if the file uses another encoding")


class CSVExtractor(ExtractableData):
    """Reads a numeric CSV table (.csv or .csv.gz) into float32 arrays.

    ``header="infer"`` treats the first line as column names only when one of its fields is not
    a number (pandas would always take it as the header); ``None`` means no header; an int is
    the header's line number. ``label_column`` is a position (negative allowed) or a name.
    String labels map to ``0..K-1`` in sorted order; the class names are kept in ``classes_``.
    ``encoding`` is the text encoding of the file (after decompression); a byte that does not
    decode raises :class:`InputError` naming the encoding, the byte, its offset and its line.
    Values must be finite float32 numbers (NaN, infinity and numbers beyond +-3.4e38 are errors).
    """

    def __init__(self, label_column: int | str | None = None, header: int | str | None = "infer",
                 delimiter: str = ",", encoding: str = "utf-8"):
        if label_column is not None and (
            isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer, str))
        ):
            raise InputError(f"label_column must be None, a column position or a name, got {label_column!r}")
        self.label_column = int(label_column) if isinstance(label_column, np.integer) else label_column
        if header != "infer" and header is not None:
            header = check_positive("header", header, integer=True, allow_zero=True)
        self.header = header
        if not isinstance(delimiter, str) or not delimiter:
            raise InputError(f"delimiter must be a non-empty string, got {delimiter!r}")
        self.delimiter = delimiter
        if not isinstance(encoding, str):
            raise InputError(f"encoding must be the name of a text encoding, got {encoding!r}")
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InputError(f"unknown encoding {encoding!r} (e.g. 'utf-8', 'latin-1', 'utf-16')") from exc
        self.encoding = encoding
        check_installed("pandas", "pandas", "CSVExtractor")
        self.classes_: list[str] | None = None

    def _read(self, path: Any):
        pd = require("pandas", "pandas", "CSVExtractor")
        p = _existing(path, "CSV file", folder=False)
        header = self.header
        options = dict(sep=self.delimiter, encoding=self.encoding)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                if header == "infer":
                    first = pd.read_csv(p, header=None, nrows=1, dtype=str, **options)
                    numeric = pd.to_numeric(first.iloc[0], errors="coerce").notna() | first.iloc[0].isna()
                    header = None if bool(numeric.all()) else 0
                df = pd.read_csv(p, header=header, **options)
        except pd.errors.EmptyDataError as exc:
            raise InputError(f"CSV file {str(p)!r} is empty") from exc
        except UnicodeDecodeError as exc:
            raise InputError(_decoding_failure(p, self.encoding, exc)) from exc
        except UnicodeError as exc:  # e.g. a UTF-16 file without a byte-order mark
            raise InputError(f"CSV file {str(p)!r} is not valid {self.encoding}: {exc}") from exc
        except ValueError as exc:  # pandas' ParserError and what else its parser raises on the content
            raise InputError(f"CSV file {str(p)!r} cannot be parsed: {exc}") from exc
        except (OSError, EOFError, zlib.error) as exc:  # a damaged .gz, an unreadable file
            raise InputError(f"cannot read CSV file {str(p)!r}: {exc}") from exc
        if df.shape[0] == 0:
            raise InputError(f"CSV file {str(p)!r} has no data rows (columns: {list(df.columns)})")
        return df

    @staticmethod
    def _numeric(df, path: Any) -> np.ndarray:
        pd = require("pandas", "pandas", "CSVExtractor")
        columns = []
        for name in df.columns:
            column = df[name]
            if not pd.api.types.is_numeric_dtype(column):  # e.g. integers beyond int64 come as text
                converted = pd.to_numeric(column, errors="coerce")
                bad = column[converted.isna() & column.notna()]
                if len(bad) or not pd.api.types.is_numeric_dtype(converted):
                    example = f" (e.g. {bad.iloc[0]!r} in data row {bad.index[0]})" if len(bad) else ""
                    raise InputError(
                        f"column {name!r} of {str(path)!r} must be numeric, got dtype {column.dtype}{example}")
                column = converted
            columns.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
        if not columns:
            raise InputError(f"{str(path)!r} has no feature columns besides the label column")
        with np.errstate(over="ignore"):
            x = np.stack(columns, axis=1).astype(np.float32)
        bad = ~np.isfinite(x)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            value = columns[col][row]
            what = ("a missing value (NaN)" if np.isnan(value) else "an infinite value" if np.isinf(value)
                    else f"a value beyond float32's range ({float(value)!r})")
            name = df.columns[col].item() if isinstance(df.columns[col], np.generic) else df.columns[col]
            raise InputError(
                f"{str(path)!r} has {what} in data row {row} (0-based, header excluded), "
                f"column {name!r}; expected finite numbers everywhere"
            )
        return x

    def _label_position(self, columns: Sequence[Any]) -> int:
        label = self.label_column
        if isinstance(label, str):
            if label not in list(columns):
                raise InputError(f"unknown label column {label!r}; columns: {', '.join(map(str, columns))}")
            return list(columns).index(label)
        if not -len(columns) <= label < len(columns):
            raise InputError(f"label_column {label} is out of range for a table of {len(columns)} columns")
        return label % len(columns)

    def extract(self, path: str) -> np.ndarray:
        """All columns (label included) as a float32 array (rows, columns)."""
        return self._numeric(self._read(path), path)

    def extract_labeled(self, path: str, classes: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: x float32 (rows, columns - 1); y int64 for class labels, float32 otherwise.

        ``classes`` fixes the mapping of string labels (e.g. the training file's ``classes_``
        when reading a test file); otherwise it is learned from this file.
        """
        if self.label_column is None:
            raise InputError("extract_labeled needs label_column (a position or a name); got None")
        pd = require("pandas", "pandas", "CSVExtractor")
        df = self._read(path)
        pos = self._label_position(df.columns)
        labels = df.iloc[:, pos]
        x = self._numeric(df.drop(columns=df.columns[pos]), path)
        if labels.isna().any():
            row = int(np.flatnonzero(labels.isna().to_numpy())[0])
            raise InputError(f"{str(path)!r} has a missing label in data row {row}; expected a label in every row")
        if pd.api.types.is_bool_dtype(labels):
            self.classes_ = None
            return x, labels.to_numpy().astype(np.int64)
        if pd.api.types.is_numeric_dtype(labels):
            values = labels.to_numpy()
            if not np.issubdtype(values.dtype, np.integer):
                with np.errstate(over="ignore"):
                    bad = ~np.isfinite(values.astype(np.float32))
                if bad.any():
                    row = int(np.flatnonzero(bad)[0])
                    raise InputError(f"{str(path)!r} has the label {values[row].item()!r} in data row {row}; "
                                     "expected a class, an integer or a finite float32 number")
            integral = np.issubdtype(values.dtype, np.integer) or bool(np.all(values == np.round(values)))
            if integral and not np.issubdtype(values.dtype, np.integer) and np.abs(values).max() >= 2.0**63:
                integral = False  # too large for int64: a regression target
            self.classes_ = None
            return x, values.astype(np.int64 if integral else np.float32)
        names = labels.astype(str)
        classes = sorted(set(names)) if classes is None else [str(c) for c in classes]
        codes = pd.Index(classes).get_indexer(names)
        if (codes < 0).any():
            unknown = names.iloc[int(np.flatnonzero(codes < 0)[0])]
            raise InputError(f"unknown label {unknown!r} in {str(path)!r}; known classes: {', '.join(classes)}")
        self.classes_ = classes
        return x, codes.astype(np.int64)

    def __repr__(self) -> str:
        return (f"CSVExtractor(label_column={self.label_column!r}, header={self.header!r}, "
                f"delimiter={self.delimiter!r}, encoding={self.encoding!r})")


class ImageExtractor(ExtractableData):
    """Reads images as float32 in [0, 1], shape (C, H, W) with C = 1 for ``mode="L"``, 3 for "RGB".

    ``size=(h, w)`` resizes (bilinear); without it all images of a folder must share one size.
    A damaged, truncated or empty image (0 bytes, or zero width or height) raises
    :class:`InputError` naming the file, and so does one with more pixels than Pillow's
    ``PIL.Image.MAX_IMAGE_PIXELS`` (its decompression-bomb limit; raise it to read larger images).
    """

    def __init__(self, size: Sequence[int] | None = None, mode: str = "L"):
        if size is not None:
            if not isinstance(size, (tuple, list)) or len(size) != 2:
                raise InputError(f"size must be None or (height, width), got {size!r}")
            size = tuple(check_positive("size", s, integer=True) for s in size)
        self.size = size
        self.mode = check_choice("image mode", mode, ("L", "RGB"))
        check_installed("PIL", "pillow", "ImageExtractor")

    def _load(self, path: Path) -> np.ndarray:
        image_module = require("PIL.Image", "pillow", "ImageExtractor")
        if path.stat().st_size == 0:
            raise InputError(f"image file {str(path)!r} is empty (0 bytes)")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", image_module.DecompressionBombWarning)
                with image_module.open(path) as img:  # Pillow refuses images of zero width or height
                    img = img.convert(self.mode)
                    if self.size is not None and img.size != (self.size[1], self.size[0]):
                        resample = getattr(image_module, "Resampling", image_module).BILINEAR
                        img = img.resize((self.size[1], self.size[0]), resample)
                    arr = np.asarray(img, dtype=np.float32) / np.float32(255.0)
        except (image_module.DecompressionBombWarning, image_module.DecompressionBombError) as exc:
            raise InputError(f"image {str(path)!r} is too large: {exc} "
                             "(the limit is PIL.Image.MAX_IMAGE_PIXELS)") from exc
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError,
                ZeroDivisionError, MemoryError) as exc:  # what Pillow's decoders raise on damaged files
            raise InputError(f"cannot read image {str(path)!r}: {type(exc).__name__}: {exc}") from exc
        return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)

    @staticmethod
    def image_files(folder: Path) -> list[Path]:
        """Image files directly inside ``folder``, sorted by name (hidden files skipped)."""
        return sorted(
            p for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
        )

    def _stack(self, files: list[Path], where: Path) -> np.ndarray:
        if not files:
            raise InputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {str(where)!r}")
        images = [self._load(f) for f in files]
        first = images[0].shape
        for f, img in zip(files, images):
            if img.shape != first:
                raise ShapeError(
                    f"images differ in size: {files[0].name} is {first[1:]} but {f.name} is {img.shape[1:]} "
                    "(height, width); pass size=(height, width) to resize"
                )
        return np.stack(images)

    def extract(self, path: str) -> np.ndarray:
        """One image file -> (C, H, W); a folder of images -> (N, C, H, W), sorted by name."""
        p = _existing(path, "image path")
        if p.is_file():
            return self._load(p)
        return self._stack(self.image_files(p), p)

    def extract_folder(self, root: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """``(x, y, class_names)`` from one sub-folder per class: x (N, C, H, W), y int64."""
        p = _existing(root, "image folder", folder=True)
        class_dirs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
        if not class_dirs:
            raise InputError(f"expected one sub-folder per class in {str(p)!r}, found no sub-folders")
        files, labels = [], []
        for label, d in enumerate(class_dirs):
            found = self.image_files(d)
            if not found:
                raise InputError(f"class folder {str(d)!r} contains no images ({', '.join(IMAGE_SUFFIXES)})")
            files += found
            labels += [label] * len(found)
        return self._stack(files, p), np.asarray(labels, dtype=np.int64), [d.name for d in class_dirs]

    def __repr__(self) -> str:
        return f"ImageExtractor(size={self.size!r}, mode={self.mode!r})"
