"""Reports of a comparison: an aligned text table, JSON rows and a bar chart."""
from __future__ import annotations

import json
import os
import textwrap
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


#: the colours of the backends' bars, and the styles of the baselines' reference lines
BACKEND_COLORS = {"torch": "#e8702a", "mxnet": "#2a7ab9"}
_OTHER_COLORS = ("#4a4", "#a4a", "#aa4")
_BASELINE_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1)))


def _value(row: Dict, metric: str):
    value = row.get(metric)
    return None if value is None or not isinstance(value, (int, float)) or value != value else float(value)


def bar_figure(rows: List[Dict], metric: str, title: str):
    """The figure of :func:`plot_bars` (open; the caller saves and closes it)."""
    from accelbrainbase.core.backends import BACKENDS
    from accelbrainbase.core.plotting import _pyplot

    plt = _pyplot()
    trained = [r for r in rows if r["backend"] in BACKENDS]
    baselines = [r for r in rows if r["backend"] not in BACKENDS]
    models = list(dict.fromkeys(r["model"] for r in trained))
    backends = [b for b in BACKENDS if any(r["backend"] == b for r in trained)]
    width = 0.8 / max(len(backends), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(models) + 3.5), 5.0), layout="constrained")
    for i, backend in enumerate(backends):
        values = {r["model"]: _value(r, metric) for r in trained if r["backend"] == backend}
        shown = [m for m in models if values.get(m) is not None]
        x = [models.index(m) - 0.4 + width * (i + 0.5) for m in shown]
        ax.bar(x, [values[m] for m in shown], width, label=backend,
               color=BACKEND_COLORS.get(backend, _OTHER_COLORS[i % len(_OTHER_COLORS)]))
    for i, row in enumerate(r for r in baselines if _value(r, metric) is not None):
        value = _value(row, metric)
        ax.axhline(value, color="#555", linewidth=1.2, linestyle=_BASELINE_STYLES[i % len(_BASELINE_STYLES)],
                   label=f"{row['model']} ({row['backend']}): {value:.4g}")
    ax.set_xticks(range(len(models)), models, rotation=30, ha="right", fontsize="small")
    ax.set_xlim(-0.6, len(models) - 0.4)
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    # over the whole figure (the legend narrows the axes), wrapped at about 9 characters of a
    # 12 pt title per inch so that it is never cut off
    fig.suptitle("\n".join(textwrap.wrap(title, max(20, int(fig.get_figwidth() * 9)))), fontsize=12)
    return fig


def plot_bars(rows: List[Dict], metric: str, path: str, title: str) -> str:
    """Grouped bars of ``metric``: one group per model with a bar per backend (torch, mxnet) side
    by side; the baselines (rows of any other backend: sklearn, numpy) are horizontal reference
    lines named in the legend. Returns ``path`` (a PNG)."""
    from accelbrainbase.core.plotting import _pyplot

    fig = bar_figure(rows, metric, title)
    try:
        fig.savefig(path, dpi=100)
    finally:
        _pyplot().close(fig)
    return path
