"""The compare report's bar chart (workbench/report.py): the two backends of a model side by
side, the baselines as reference lines, nothing cut off."""
from __future__ import annotations

import numpy as np
import pytest

from accelbrainbase.workbench.report import bar_figure, plot_bars

ROWS = [
    {"model": "AutoEncoder", "backend": "torch", "test_mse": 0.020},
    {"model": "AutoEncoder", "backend": "mxnet", "test_mse": 0.021},
    {"model": "ContractiveConvolutionalAutoEncoder", "backend": "torch", "test_mse": 0.030},
    {"model": "ContractiveConvolutionalAutoEncoder", "backend": "mxnet", "test_mse": 0.032},
    {"model": "RestrictedBoltzmannMachines", "backend": "torch", "test_mse": 0.050},  # no mxnet row
    {"model": "PCA(16)", "backend": "sklearn", "test_mse": 0.015},
    {"model": "mean image", "backend": "numpy", "test_mse": 0.070},
]
TITLE = "representation on mnist5k: test reconstruction MSE (30 epochs, seed 0, both backends)"


def inside(extent, figure):
    return (extent.x0 >= figure.x0 - 0.5 and extent.x1 <= figure.x1 + 0.5
            and extent.y0 >= figure.y0 - 0.5 and extent.y1 <= figure.y1 + 0.5)


def test_bars_group_the_backends_of_each_model_and_baselines_are_lines():
    import matplotlib.pyplot as plt

    fig = bar_figure(ROWS, "test_mse", TITLE)
    try:
        ax = fig.axes[0]
        models = ["AutoEncoder", "ContractiveConvolutionalAutoEncoder", "RestrictedBoltzmannMachines"]
        assert [t.get_text() for t in ax.get_xticklabels()] == models
        assert [c.get_label() for c in ax.containers] == ["torch", "mxnet"]
        torch_bars, mxnet_bars = ([(b.get_x() + b.get_width() / 2, b.get_height()) for b in c] for c in ax.containers)
        assert [h for _, h in torch_bars] == pytest.approx([0.020, 0.030, 0.050])
        assert [h for _, h in mxnet_bars] == pytest.approx([0.021, 0.032])
        for i, ((xt, _), (xm, _)) in enumerate(zip(torch_bars, mxnet_bars)):
            assert xt < xm and (xt + xm) / 2 == pytest.approx(i)  # side by side around the model's tick
        assert torch_bars[2][0] < 2  # the torch-only model keeps its torch slot
        lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
        assert set(lines) == {"PCA(16) (sklearn): 0.015", "mean image (numpy): 0.07"}
        assert np.allclose(lines["PCA(16) (sklearn): 0.015"], 0.015)
        # nothing is cut off: the title, the rotated model names and the legend lie inside the figure
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        title = fig.get_suptitle()
        assert "".join(title.split()) == "".join(TITLE.split())
        suptitle = next(t for t in fig.texts if t.get_text() == title)
        for artist in [suptitle, ax.get_legend(), *ax.get_xticklabels()]:
            assert inside(artist.get_window_extent(renderer), fig.bbox), artist
    finally:
        plt.close(fig)


def test_plot_bars_writes_a_png(tmp_path):
    path = plot_bars(ROWS, "test_mse", str(tmp_path / "bars.png"), TITLE)
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
