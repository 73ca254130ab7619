"""Anomaly detection with reconstruction errors, written once in NumPy for both backends.

EncDec-AD (Malhotra et al. 2016, "LSTM-based encoder-decoder for multi-sensor anomaly
detection", arXiv:1607.00148): an LSTM encoder-decoder learns to reconstruct normal windows;
the error vectors ``e(i) = |x(i) - x'(i)|`` of the points of normal validation windows are
fitted with a normal distribution N(mu, Sigma) (maximum likelihood); a point's anomaly score is
its Mahalanobis distance ``sqrt((e - mu)^T Sigma^-1 (e - mu))`` (the square root of the paper's
``a(i)``: the same ranking and thresholds); a window is anomalous when one of its points is
(window score = max of point scores, or optionally their mean); the threshold maximises
F-beta (beta = 0.1: precision first) on a validation split with anomalies, on the same score
that ``predict`` compares with it.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from accelbrainbase.core.config import Configurable
from accelbrainbase.core.errors import InputError, NotFittedError, ShapeError
from accelbrainbase.core.interfaces import ControllableModel
from accelbrainbase.core.validation import (
    check_array, check_binary_labels, check_choice, check_fraction, check_positive,
)

COVARIANCES = ("auto", "full", "diagonal")
WINDOW_SCORES = ("max", "mean")


# -- metrics ---------------------------------------------------------------------------------------
def roc_auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve: P(score of an anomaly > score of a normal sample), ties 1/2
    (the Mann-Whitney U statistic with average ranks)."""
    scores = check_array("scores", scores, dtype=np.float64).ravel()
    labels = check_binary_labels("labels", labels).ravel()
    if len(scores) != len(labels):
        raise ShapeError(f"scores has {len(scores)} values but labels has {len(labels)}")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    for s, e in zip(starts, ends):  # average rank (1-based) within ties
        ranks[order[s:e]] = (s + e + 1) / 2.0
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def precision_recall_fbeta(predicted: Any, labels: Any, beta: float = 0.1) -> Tuple[float, float, float]:
    """Precision, recall and F-beta = (1 + b^2) P R / (b^2 P + R) of 0/1 predictions (0 when undefined)."""
    predicted = check_binary_labels("predicted", predicted, both=False).ravel()
    labels = check_binary_labels("labels", labels, both=False).ravel()
    tp = int(np.sum((predicted == 1) & (labels == 1)))
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(labels.sum()), 1)
    b2 = beta * beta
    denominator = b2 * precision + recall
    return precision, recall, (1 + b2) * precision * recall / denominator if denominator else 0.0


def best_fbeta_threshold(scores: Any, labels: Any, beta: float = 0.1) -> Dict[str, float]:
    """The threshold ``tau`` (one of the scores) for which ``score >= tau`` maximises F-beta;
    ties go to the higher threshold. Returns threshold, fbeta, precision, recall."""
    beta = check_positive("beta", beta)
    scores = check_array("scores", scores, dtype=np.float64).ravel()
    labels = check_binary_labels("labels", labels).ravel()
    if len(scores) != len(labels):
        raise ShapeError(f"scores has {len(scores)} values but labels has {len(labels)}")
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    tp, fp = np.cumsum(y), np.cumsum(1 - y)
    last = np.r_[s[1:] != s[:-1], True]  # the end of each run of equal scores
    tp, fp, s = tp[last], fp[last], s[last]
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    b2 = beta * beta
    with np.errstate(invalid="ignore", divide="ignore"):
        fbeta = np.where(tp > 0, (1 + b2) * precision * recall / (b2 * precision + recall), 0.0)
    best = int(np.argmax(fbeta))  # first maximum = highest threshold
    return {"threshold": float(s[best]), "fbeta": float(fbeta[best]),
            "precision": float(precision[best]), "recall": float(recall[best])}


# -- the error model -------------------------------------------------------------------------------
class GaussianErrorModel:
    """A normal distribution N(mu, Sigma) fitted by maximum likelihood to error vectors (n, d);
    ``distance(e)`` is the Mahalanobis distance ``sqrt((e - mu)^T Sigma^-1 (e - mu))``.

    ``covariance``: "full" (needs d >= 2: the multivariate case), "diagonal" (independent
    features), or "auto" (full for d >= 2, the variance for d = 1). ``ridge`` times the mean
    variance is added to the diagonal so that a singular Sigma still inverts.
    """

    def __init__(self, covariance: str = "auto", ridge: float = 1e-6):
        self.covariance = check_choice("covariance", covariance, COVARIANCES)
        self.ridge = check_positive("ridge", ridge, allow_zero=True)

    def fit(self, errors: Any) -> "GaussianErrorModel":
        errors = check_array("errors", errors, ndim=2, dtype=np.float64)
        n, d = errors.shape
        if self.covariance == "full" and d < 2:
            raise InputError("covariance='full' asks for a multivariate Mahalanobis fit, which needs error "
                             f"vectors with at least two features, got {d}; use covariance='auto' or "
                             "'diagonal' for a univariate series")
        if n < 2:
            raise InputError(f"fitting a normal distribution needs at least 2 error vectors, got {n}")
        mean = errors.mean(axis=0)
        centred = errors - mean
        cov = centred.T @ centred / n
        if self.covariance == "diagonal":
            cov = np.diag(np.diag(cov))
        cov = cov + self.ridge * max(float(np.trace(cov)) / d, 1e-12) * np.eye(d)
        self.mean_, self.covariance_ = mean, cov
        self.precision_ = np.linalg.inv(cov)
        return self

    def set_state(self, mean: np.ndarray, covariance: np.ndarray) -> "GaussianErrorModel":
        self.mean_ = np.asarray(mean, dtype=np.float64)
        self.covariance_ = np.asarray(covariance, dtype=np.float64)
        self.precision_ = np.linalg.inv(self.covariance_)
        return self

    def distance(self, errors: Any) -> np.ndarray:
        """Mahalanobis distances of error vectors (..., d) -> (...)."""
        if not hasattr(self, "mean_"):
            raise NotFittedError("the error model is not fitted; call fit(errors) first")
        errors = np.asarray(errors, dtype=np.float64)
        if errors.shape[-1] != len(self.mean_):
            raise ShapeError(f"error vectors have {errors.shape[-1]} features, expected {len(self.mean_)}")
        centred = errors - self.mean_
        squared = np.einsum("...i,ij,...j->...", centred, self.precision_, centred)
        return np.sqrt(np.maximum(squared, 0.0))


# -- the detector ----------------------------------------------------------------------------------
class EncDecADBase(Configurable, ControllableModel):
    """EncDec-AD detector around an LSTM :class:`EncoderDecoder` (Malhotra et al. 2016,
    arXiv:1607.00148). Windows are (N, T, F) arrays.

    ``fit(normal, validation, validation_labels)``: learn the encoder-decoder on normal windows
    only (a seeded ``normal_validation_size`` part of them, or ``normal_validation``, is held
    out), fit N(mu, Sigma) to the point error vectors of the normal validation windows, choose
    the threshold maximising F-beta on ``validation`` (labels per window (N,) or per point
    (N, T)) on the score ``predict`` compares (``window_score``: "max" of the point scores, or
    their "mean"); without labelled validation the threshold is the highest normal-validation
    window score. ``score`` (N,) / ``score_points`` (N, T): Mahalanobis distances; ``predict`` 0/1.
    """

    #: the backend's EncoderDecoder class (set by the backend subclass)
    encoder_decoder_class: type = None

    def __init__(self, input_size: int, hidden_size: int = 32, num_layers: int = 1, dropout: float = 0.0,
                 seq_len: Optional[int] = None, teacher_forcing: float = 1.0, epochs: int = 30, batch_size: int = 32,
                 optimizer: Any = "adam", beta: float = 0.1, covariance: str = "auto",
                 window_score: str = "max", normal_validation_size: float = 0.25, device: str = "cpu"):
        self.epochs = check_positive("epochs", epochs, integer=True)
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        self.beta = check_positive("beta", beta)
        self.covariance = check_choice("covariance", covariance, COVARIANCES)
        self.window_score = check_choice("window_score", window_score, WINDOW_SCORES)
        self.normal_validation_size = check_fraction("normal_validation_size", normal_validation_size)
        self.encoder_decoder = self.encoder_decoder_class(
            input_size, hidden_size, num_layers=num_layers, dropout=dropout, seq_len=seq_len,
            teacher_forcing=teacher_forcing, optimizer=optimizer, device=device)
        self.teacher_forcing = teacher_forcing
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.seq_len, self.optimizer, self.device = dropout, seq_len, optimizer, device
        self.error_model_: Optional[GaussianErrorModel] = None
        self.threshold_: Optional[float] = None
        self.validation_: Dict[str, float] = {}

    # -- configuration hooks of the registry -------------------------------------------------------
    @classmethod
    def example(cls, n_features: int, code_size: int = 16, hidden=(), **kwargs) -> "EncDecADBase":
        kwargs.setdefault("epochs", 3)
        kwargs.setdefault("batch_size", 16)
        return cls(n_features, code_size, num_layers=1 + len(tuple(hidden)), **kwargs)

    @classmethod
    def example_data(cls, rng: np.random.Generator, n_samples: int = 60, n_features: int = 12,
                     seq_len: int = 6) -> np.ndarray:
        from accelbrainbase.models.recurrent import example_sequences

        return example_sequences(rng, n_samples, n_features, seq_len)

    # -- shared state with the inner model ---------------------------------------------------------
    @property
    def input_shape(self) -> tuple:
        return self.encoder_decoder.input_shape

    @property
    def history_(self):
        return self.encoder_decoder.history_

    @property
    def history(self):
        return self.encoder_decoder.history

    @property
    def n_parameters(self) -> int:
        return self.encoder_decoder.n_parameters

    # -- learning ----------------------------------------------------------------------------------
    def fit(self, normal: Any, validation: Any = None, validation_labels: Any = None, *,
            normal_validation: Any = None, callbacks=(), progress: bool = True) -> "EncDecADBase":
        """Learn from normal windows; fit the error model; choose the threshold. Returns ``self``."""
        from accelbrainbase.data.iterators import ArrayIterator
        from accelbrainbase.data.splitting import split_indices
        from accelbrainbase.data._common import make_rng

        model = self.encoder_decoder
        normal = model.check_samples("normal", normal)
        labels = None
        if (validation is None) != (validation_labels is None):
            raise InputError("pass validation windows and validation_labels together (or neither)")
        if validation is not None:
            validation = model.check_samples("validation", validation)
            labels = self._check_labels("validation_labels", validation_labels, validation)
            if self.window_score != "max":
                self._window_labels(labels)  # checked before learning
        if normal_validation is not None:
            normal_validation = model.check_samples("normal_validation", normal_validation)
            train = normal
        else:
            if self.normal_validation_size == 0:
                raise InputError("the error model needs normal validation windows: pass normal_validation "
                                 "or set normal_validation_size > 0")
            if len(normal) < 2:
                raise InputError(f"normal needs at least 2 windows to hold some out, got {len(normal)}")
            train_idx, val_idx = split_indices(len(normal), self.normal_validation_size, make_rng(None))
            train, normal_validation = normal[train_idx], normal[val_idx]
        data = ArrayIterator(train, test_x=normal_validation, batch_size=self.batch_size, epochs=self.epochs)
        model.learn(data, callbacks=callbacks, progress=progress)
        errors = self.reconstruction_errors(normal_validation)
        self.error_model_ = GaussianErrorModel(self.covariance).fit(errors.reshape(-1, errors.shape[-1]))
        if labels is None:
            self.threshold_ = float(self.score(normal_validation).max())
            self.validation_ = {}
        else:
            scores, labels = self._threshold_scores(validation, labels)
            self.validation_ = best_fbeta_threshold(scores, labels, self.beta)
            self.threshold_ = self.validation_["threshold"]
        return self

    def _threshold_scores(self, validation: np.ndarray, labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The scores (and labels) the threshold is chosen on: those :meth:`predict` compares.

        Per-point labels with ``window_score="max"`` use the point scores (the paper's choice,
        and the same decision for windows: max >= tau exactly when some point >= tau). With
        ``window_score="mean"`` the threshold applies to window means, so it is chosen on them;
        per-point labels then mark a window anomalous when any of its points is."""
        if labels.ndim == 2 and self.window_score == "max":
            return self.score_points(validation), labels
        return self.score(validation), self._window_labels(labels)

    def _window_labels(self, labels: np.ndarray) -> np.ndarray:
        """Window labels: the given ones, or 1 for windows with an anomalous point."""
        if labels.ndim == 1:
            return labels
        windows = labels.max(axis=1)
        if windows.min() == windows.max():
            raise InputError(f"window_score={self.window_score!r} chooses the threshold on window scores, but "
                             f"every validation window is {'anomalous' if windows[0] else 'normal'} by its point "
                             "labels; it needs both normal and anomalous windows")
        return windows

    def learn(self, normal: Any, *args: Any, **kwargs: Any) -> "EncDecADBase":
        """Same as :meth:`fit` (the ControllableModel verb)."""
        return self.fit(normal, *args, **kwargs)

    def _check_labels(self, what: str, labels: Any, windows: np.ndarray) -> np.ndarray:
        arr = np.asarray(labels)
        if arr.ndim not in (1, 2) or arr.shape != windows.shape[:arr.ndim]:
            raise ShapeError(f"{what} must have shape {windows.shape[:1]} (per window) or {windows.shape[:2]} "
                             f"(per point), got {arr.shape}")
        return check_binary_labels(what, arr)

    # -- scoring -----------------------------------------------------------------------------------
    def reconstruction_errors(self, windows: Any) -> np.ndarray:
        """``|x - x'|`` of the free-running reconstruction, (N, T, F)."""
        x = self.encoder_decoder.check_samples("windows", windows)
        return np.abs(x - self.encoder_decoder.inference(x))

    def _fitted(self) -> GaussianErrorModel:
        if self.error_model_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(normal_windows, ...) first")
        return self.error_model_

    def score_points(self, windows: Any) -> np.ndarray:
        """The Mahalanobis distance of each point's error vector, (N, T)."""
        error_model = self._fitted()
        return error_model.distance(self.reconstruction_errors(windows))

    def score(self, windows: Any) -> np.ndarray:
        """One anomaly score per window (N,): the max (or mean) of its point scores."""
        points = self.score_points(windows)
        return points.max(axis=1) if self.window_score == "max" else points.mean(axis=1)

    def inference(self, windows: Any) -> np.ndarray:
        """Same as :meth:`score` (the ControllableModel verb)."""
        return self.score(windows)

    def predict(self, windows: Any) -> np.ndarray:
        """1 for windows whose score reaches the threshold, else 0, (N,)."""
        self._fitted()
        return (self.score(windows) >= self.threshold_).astype(np.int64)

    def predict_points(self, windows: Any) -> np.ndarray:
        """1 for points whose score reaches the threshold, else 0, (N, T) (``window_score="max"``
        only: a threshold on window means does not apply to single points)."""
        self._fitted()
        if self.window_score != "max":
            raise InputError(f"predict_points compares point scores with the threshold, which window_score="
                             f"{self.window_score!r} chose on window means; use predict, or window_score='max'")
        return (self.score_points(windows) >= self.threshold_).astype(np.int64)

    # -- state and persistence ---------------------------------------------------------------------
    def export_state(self) -> Dict[str, np.ndarray]:
        state = {f"encoder_decoder.{k}": v for k, v in self.encoder_decoder.export_state().items()}
        if self.error_model_ is not None:
            state["detector.mean"] = self.error_model_.mean_.copy()
            state["detector.covariance"] = self.error_model_.covariance_.copy()
            state["detector.threshold"] = np.array([self.threshold_], dtype=np.float64)
        return state

    def import_state(self, state: Dict[str, np.ndarray]) -> None:
        inner = {k[len("encoder_decoder."):]: v for k, v in state.items() if k.startswith("encoder_decoder.")}
        detector = {k for k in state if k.startswith("detector.")}
        unexpected = sorted(set(state) - detector - {f"encoder_decoder.{k}" for k in inner})
        expected = {"detector.mean", "detector.covariance", "detector.threshold"}
        if unexpected or (detector and detector != expected):
            raise InputError(f"state does not match {type(self).__name__}: unexpected "
                             f"{unexpected or sorted(detector - expected)}, missing {sorted(expected - detector)}")
        self.encoder_decoder.import_state(inner)
        if detector:
            self.error_model_ = GaussianErrorModel(self.covariance).set_state(
                state["detector.mean"], state["detector.covariance"])
            self.threshold_ = float(np.asarray(state["detector.threshold"]).ravel()[0])

    def save(self, directory: str) -> str:
        """Config, encoder-decoder weights, the error model and the threshold (no pickle)."""
        from accelbrainbase.core.persistence import save_model

        return save_model(self, directory)

    @classmethod
    def load(cls, directory: str, device: Optional[str] = None) -> "EncDecADBase":
        from accelbrainbase.core.persistence import load_model

        model = load_model(directory, backend=cls.__module__.split(".")[1], device=device)
        if not isinstance(model, cls):
            raise InputError(f"{directory!r} holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, beta={self.beta}, window_score={self.window_score!r}, "
                f"fitted={self.error_model_ is not None})")
