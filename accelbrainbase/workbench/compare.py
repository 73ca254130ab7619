"""``compare SETTING``: train every registered equivalent on real data; one table plus plots."""
from __future__ import annotations

import os
from typing import Dict, List, Sequence

from accelbrainbase.core.backends import BACKENDS, get_backend
from accelbrainbase.core.errors import InputError, MissingDependencyError
from accelbrainbase.core.validation import check_choice
from accelbrainbase.data.datasets import load_dataset
from accelbrainbase.data.semisupervised import check_labels_per_class
from accelbrainbase.workbench import anomaly, classification, generation, representation
from accelbrainbase.workbench.report import format_table, plot_bars, write_json

SETTINGS = {"representation": representation, "anomaly-detection": anomaly,
            "classification": classification, "generation": generation}


def compare(setting: str, *, backends: Sequence[str] = BACKENDS, data: str | None = None,
            epochs: int = 60, seed: int = 0, out: str | None = None, json_path: str | None = None,
            progress: bool = True, echo=print, labels_per_class: int | None = None) -> List[Dict]:
    """Run ``setting`` for each backend that imports here; print and return the rows.

    A backend whose framework is missing is reported and skipped, not fatal, unless no
    backend is left. ``data`` defaults to the setting's own (digits for representation,
    classification and generation, ECG5000 for anomaly detection). ``labels_per_class`` (classification only) keeps that many
    training labels per class: the semi-supervised comparison of ``workbench.classification``.
    """
    module = SETTINGS[check_choice("problem setting", setting, SETTINGS)]
    extra = {}
    if labels_per_class is not None:
        if setting != "classification":
            raise InputError(f"labels_per_class applies to the classification setting only, not {setting!r}")
        extra["labels_per_class"] = check_labels_per_class(labels_per_class)
    usable = []
    for backend in backends:
        check_choice("backend", backend, BACKENDS)
        try:
            get_backend(backend)
        except MissingDependencyError as exc:
            echo(f"skipping backend {backend}: {exc}")
            continue
        usable.append(backend)
    if not usable:
        raise MissingDependencyError(f"none of the backends {list(backends)} can be imported here")
    data = data or getattr(module, "DEFAULT_DATA", "digits")
    dataset = module.load_data(data) if hasattr(module, "load_data") else load_dataset(data)
    rows = module.run(dataset, usable, epochs=epochs, seed=seed, progress=progress, **extra)
    columns = module.columns_for(dataset) if hasattr(module, "columns_for") else module.COLUMNS
    plain = [{k: v for k, v in row.items() if k in columns} for row in rows]
    labelled = "" if labels_per_class is None else (
        f", {labels_per_class} labels per class ({labels_per_class * dataset.n_classes} of "
        f"{len(dataset.y_train)} training samples labelled)")
    echo(f"\n{setting} on {data} (test set: {len(dataset.x_test)} samples, {epochs} epochs, seed {seed}"
         f"{labelled})\n")
    echo(format_table(plain, columns))
    if json_path:
        write_json(plain, json_path)
        echo(f"\nrows written to {json_path}")
    if out:
        os.makedirs(out, exist_ok=True)
        metric = getattr(module, "PLOT_METRIC", "test_mse")
        title = getattr(module, "PLOT_TITLE", "test reconstruction MSE")
        stem = f"{setting}-{data}" + ("" if labels_per_class is None else f"-{labels_per_class}-labels")
        if metric not in columns:  # e.g. the ring has no Fréchet distance of features
            metric, title = columns[4], columns[4].replace("_", " ")
        path = plot_bars(plain, metric, os.path.join(out, f"{stem}.png"), f"{setting} on {data}: {title}")
        echo(f"plot written to {path}")
        for picture in getattr(module, "write_pictures", lambda *a: [])(rows, dataset, out, stem):
            echo(f"picture written to {picture}")
    return rows
