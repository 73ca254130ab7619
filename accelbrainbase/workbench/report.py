"""Reports of a comparison: an aligned text table, JSON rows and a bar chart."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Sequence


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.5f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)


def format_table(rows: List[Dict], columns: Sequence[str]) -> str:
    """Rows as an aligned plain-text table."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths)))
              for r in cells]
    return "\n".join(lines)


def write_json(rows: List[Dict], path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(rows, handle, indent=1)
    return path


def plot_bars(rows: List[Dict], metric: str, path: str, title: str) -> str:
    """A horizontal bar per row (model / backend) of ``metric``; baselines (sklearn, numpy) in grey."""
    from accelbrainbase.core.plotting import _pyplot

    plt = _pyplot()
    labels = [f"{r['model']} ({r['backend']})" for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(rows) + 1.2))
    ax.barh(labels, [r[metric] for r in rows], color=["#888" if r["backend"] in ("sklearn", "numpy")
                                                     else "#3a7" for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(metric.replace("_", " "))
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
