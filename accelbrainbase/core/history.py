"""Per-epoch records of learning: losses, metrics and seconds."""
from __future__ import annotations

from typing import Dict, List


class History:
    """Rows of ``{"epoch", "train_loss", "test_loss", ..., "seconds"}``; ``frame`` is a DataFrame."""

    def __init__(self) -> None:
        self.rows: List[Dict[str, float]] = []

    def append(self, row: Dict[str, float]) -> None:
        self.rows.append(dict(row))

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def next_epoch(self) -> int:
        return int(self.rows[-1]["epoch"]) + 1 if self.rows else 0

    @property
    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def plot(self, path: str | None = None, title: str = "learning curves"):
        """Plot every loss column against the epoch; save to ``path`` if given."""
        from accelbrainbase.core.plotting import plot_history

        return plot_history(self.frame, path=path, title=title)

    def __repr__(self) -> str:
        return f"History({len(self.rows)} epochs)"
