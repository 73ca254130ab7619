"""Input noise for denoising and augmentation. Every ``noise(arr)`` returns a new float32
array of the same shape (the first axis is the batch) and leaves ``arr`` unchanged."""
from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np

from accelbrainbase.core.errors import InputError, ShapeError
from accelbrainbase.core.interfaces import NoiseableData
from accelbrainbase.core.validation import check_fraction, check_positive
from accelbrainbase.data._common import check_finite_number, check_seed, jsonable, make_rng


class _Noise(NoiseableData):
    """Shared config handling: constructor args are attributes of the same name."""

    def __init__(self, seed: int | None) -> None:
        self.seed = check_seed(seed)
        self._rng = make_rng(self.seed)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as a JSON-able dict (``type(self)(**config)`` rebuilds it)."""
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: jsonable(getattr(self, name)) for name in names}

    def __repr__(self) -> str:
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({args})"


def _as_batch(arr: Any) -> np.ndarray:
    out = np.asarray(arr, dtype=np.float32)
    if out.ndim == 0 or out.size == 0:
        raise ShapeError(f"noise expects a non-empty batch (N, ...), got shape {out.shape}")
    return out


def _pick_entries(rng: np.random.Generator, shape: tuple, fraction: float) -> np.ndarray | None:
    """Boolean mask choosing ``round(fraction * F)`` of the F entries of each sample (exactly,
    unless two float32 random keys tie at the threshold)."""
    n = shape[0] if len(shape) > 1 else 1
    f = int(np.prod(shape)) // n
    k = int(round(fraction * f))
    if k == 0:
        return None
    if k >= f:
        return np.ones(shape, dtype=bool)
    keys = rng.random((n, f), dtype=np.float32)
    threshold = np.partition(keys, k - 1, axis=1)[:, k - 1 : k]
    return (keys <= threshold).reshape(shape)


class GaussianNoise(_Noise):
    """Adds N(0, std^2) noise to every entry; ``clip=(low, high)`` clips the result."""

    def __init__(self, std: float = 0.1, clip: Sequence[float] | None = None, seed: int | None = None):
        super().__init__(seed)
        self.std = check_positive("std", std, allow_zero=True)
        if clip is not None:
            if not isinstance(clip, (tuple, list)) or len(clip) != 2:
                raise InputError(f"clip must be None or (low, high), got {clip!r}")
            low, high = (check_finite_number("clip", v) for v in clip)
            if not low < high:
                raise InputError(f"clip must have low < high, got {clip!r}")
            clip = (low, high)
        self.clip = clip

    def noise(self, arr: np.ndarray) -> np.ndarray:
        x = _as_batch(arr)
        out = self._rng.standard_normal(x.shape, dtype=np.float32)
        out *= self.std
        out += x
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        return out


class MaskingNoise(_Noise):
    """Sets a random ``fraction`` of the entries of each sample to zero (Vincent et al. 2010)."""

    def __init__(self, fraction: float = 0.25, seed: int | None = None):
        super().__init__(seed)
        self.fraction = check_fraction("fraction", fraction, allow_one=True)

    def noise(self, arr: np.ndarray) -> np.ndarray:
        x = _as_batch(arr)
        mask = _pick_entries(self._rng, x.shape, self.fraction)
        return x.copy() if mask is None else np.where(mask, np.float32(0), x)


class SaltAndPepperNoise(_Noise):
    """Sets a random ``fraction`` of the entries of each sample to ``low`` or ``high``
    (each with probability 1/2)."""

    def __init__(self, fraction: float = 0.1, low: float = 0.0, high: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.fraction = check_fraction("fraction", fraction, allow_one=True)
        self.low = check_finite_number("low", low)
        self.high = check_finite_number("high", high)
        if not self.low < self.high:
            raise InputError(f"low must be < high, got low={low!r}, high={high!r}")

    def noise(self, arr: np.ndarray) -> np.ndarray:
        x = _as_batch(arr)
        mask = _pick_entries(self._rng, x.shape, self.fraction)
        if mask is None:
            return x.copy()
        salt = self._rng.random(x.shape, dtype=np.float32) < 0.5
        values = np.where(salt, np.float32(self.high), np.float32(self.low))
        return np.where(mask, values, x)


class CutoutNoise(_Noise):
    """Fills ``n_holes`` random ``size`` x ``size`` squares per image with ``fill``
    (DeVries & Taylor 2017: the centre is uniform over the image, squares clip at the border).

    Accepts (N, H, W), (N, C, H, W), or flat (N, F) when ``image_shape`` is (H, W) or (C, H, W).
    """

    def __init__(
        self,
        size: int | Sequence[int] = 4,
        image_shape: Sequence[int] | None = None,
        n_holes: int = 1,
        fill: float = 0.0,
        seed: int | None = None,
    ):
        super().__init__(seed)
        if isinstance(size, (tuple, list)):
            if len(size) != 2:
                raise InputError(f"size must be an int or (h, w), got {size!r}")
            self.size = tuple(check_positive("size", s, integer=True) for s in size)
        else:
            self.size = check_positive("size", size, integer=True)
        if image_shape is not None:
            if not isinstance(image_shape, (tuple, list)) or len(image_shape) not in (2, 3):
                raise InputError(f"image_shape must be None, (H, W) or (C, H, W), got {image_shape!r}")
            image_shape = tuple(check_positive("image_shape", s, integer=True) for s in image_shape)
        self.image_shape = image_shape
        self.n_holes = check_positive("n_holes", n_holes, integer=True)
        self.fill = check_finite_number("fill", fill)

    def _images(self, x: np.ndarray) -> np.ndarray:
        """View ``x`` as (N, C, H, W)."""
        if self.image_shape is not None:
            n_pixels = int(np.prod(self.image_shape))
            if x.ndim < 2 or int(np.prod(x.shape[1:])) != n_pixels:
                raise ShapeError(
                    f"image_shape {self.image_shape} has {n_pixels} values per sample, "
                    f"got samples of shape {x.shape[1:]}"
                )
            shape = self.image_shape if len(self.image_shape) == 3 else (1,) + self.image_shape
            return x.reshape((len(x),) + shape)
        if x.ndim == 3:
            return x[:, None]
        if x.ndim == 4:
            return x
        raise ShapeError(
            f"CutoutNoise expects (N, H, W) or (N, C, H, W), got shape {x.shape}; "
            "for flat samples pass image_shape=(H, W) or (C, H, W)"
        )

    def noise(self, arr: np.ndarray) -> np.ndarray:
        x = _as_batch(arr)
        images = self._images(x)
        n, _, height, width = images.shape
        h, w = self.size if isinstance(self.size, tuple) else (self.size, self.size)
        cy = self._rng.integers(0, height, size=(n, self.n_holes))
        cx = self._rng.integers(0, width, size=(n, self.n_holes))
        y0, x0 = cy - h // 2, cx - w // 2
        rows, cols = np.arange(height), np.arange(width)
        in_rows = (rows >= y0[..., None]) & (rows < y0[..., None] + h)  # (N, holes, H)
        in_cols = (cols >= x0[..., None]) & (cols < x0[..., None] + w)  # (N, holes, W)
        mask = (in_rows[..., :, None] & in_cols[..., None, :]).any(axis=1)  # (N, H, W)
        return np.where(mask[:, None], np.float32(self.fill), images).reshape(x.shape)

