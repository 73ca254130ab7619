"""Figures people would rather look at than read; matplotlib is imported only when plotting."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str, title: str = "") -> str:
    """Title, tight layout, write ``path`` and free the figure."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def plot_history(frame, path: str | None = None, title: str = "learning curves"):
    """Loss columns of a history frame against the epoch."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for column in frame.columns:
        if column.endswith("loss"):
            ax.plot(frame["epoch"] + 1, frame[column], label=column.replace("_", " "))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return fig


def plot_image_rows(rows: Sequence[np.ndarray], labels: Sequence[str], image_shape, path: str,
                    title: str = ""):
    """One row of images per array in ``rows`` (each (n, prod(image_shape))), labelled on the left."""
    plt = _pyplot()
    n = min(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.9, len(rows) * 1.0), squeeze=False)
    for i, (row, label) in enumerate(zip(rows, labels)):
        for j in range(n):
            ax = axes[i][j]
            ax.imshow(np.asarray(row[j]).reshape(image_shape), cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    return _save(fig, path, title)


def plot_filters(filters: np.ndarray, image_shape, path: str, title: str = "", columns: int = 16):
    """Each row of ``filters`` (n, prod(image_shape)) as an image, each scaled to its own range."""
    plt = _pyplot()
    n = len(filters)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.6, rows * 0.6 + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, weights in zip(axes.ravel(), filters):
        ax.imshow(np.asarray(weights).reshape(image_shape), cmap="gray")
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_point_sets(sets: Sequence[np.ndarray], labels: Sequence[str], path: str, title: str = "",
                    columns: int = 4):
    """One scatter plot per 2-D point set (each (n, 2)), on shared axes limits."""
    plt = _pyplot()
    rows = -(-len(sets) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 2.6, rows * 2.6), squeeze=False)
    stacked = np.concatenate([np.asarray(s, dtype=float)[:, :2] for s in sets])
    low, high = np.percentile(stacked, 0.5, axis=0), np.percentile(stacked, 99.5, axis=0)
    margin = 0.1 * (high - low)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, points, label in zip(axes.ravel(), sets, labels):
        points = np.asarray(points)
        ax.set_axis_on()
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
        ax.set_xlim(low[0] - margin[0], high[0] + margin[0])
        ax.set_ylim(low[1] - margin[1], high[1] + margin[1])
        ax.set_aspect("equal")
        ax.set_title(label, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return _save(fig, path, title)
