"""Device names shared by both backends: "cpu", "cuda", "cuda:N"."""
from __future__ import annotations

import re
from typing import NamedTuple

from accelbrainbase.core.errors import InputError

_PATTERN = re.compile(r"^(cpu|cuda)(?::(\d+))?$")


class Device(NamedTuple):
    kind: str  # "cpu" or "cuda"
    index: int  # GPU ordinal; 0 for cpu

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"cuda:{self.index}"


def parse_device(device: str) -> Device:
    """Parse "cpu", "cuda" or "cuda:N"; anything else is an :class:`InputError`."""
    match = _PATTERN.match(device.strip().lower()) if isinstance(device, str) else None
    if match is None or (match.group(1) == "cpu" and match.group(2) not in (None, "0")):
        raise InputError(f"unknown device {device!r}; valid: 'cpu', 'cuda', 'cuda:N'")
    return Device(match.group(1), int(match.group(2) or 0))
