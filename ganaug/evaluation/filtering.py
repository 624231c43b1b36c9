"""Quality gating: keep the synthetic samples a real-data classifier assigns to their intended class."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._validation import Interval, check_positive_int
from ..classifier import predict_proba


class SyntheticFilter:
    """A picklable ``filter(x, y) -> bool mask`` for :meth:`SyntheticAugmenter.wrap`.

    Keeps a synthetic sample when ``classifier``, trained on real data, gives
    its intended class a probability of at least ``min_confidence``.

    Parameters
    ----------
    classifier : nn.Module or sklearn estimator
        A torch module mapping a batch of samples to class logits (softmax is
        applied), or an estimator with ``predict_proba`` on flattened samples.
    min_confidence : float
        Probability threshold in [0, 1].
    classes : sequence, optional
        The label of each output column. Default: the classifier's
        ``classes_`` (set by :func:`fit_classifier` and by sklearn), else
        the labels are taken to be column indices 0..K-1.
    batch_size : int
        Samples per forward pass.

    Examples
    --------
    >>> import torch
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = torch.cat([torch.zeros(20, 2), torch.ones(20, 2)]); y = [0] * 20 + [1] * 20
    >>> gate = SyntheticFilter(LogisticRegression().fit(X.numpy(), y), min_confidence=0.6)
    >>> gate(torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), [0, 1, 1]).tolist()
    [True, False, True]
    """

    def __init__(self, classifier, min_confidence: float = 0.5, classes=None, batch_size: int = 1024):
        if not Interval("real", 0, 1).accepts(min_confidence):
            raise ValueError(f"min_confidence must be a probability in [0, 1]; got {min_confidence!r}")
        if not isinstance(classifier, nn.Module) and not hasattr(classifier, "predict_proba"):
            raise TypeError(
                f"classifier must be a torch nn.Module or an sklearn estimator with predict_proba; got {type(classifier).__name__}"
            )
        self.classifier = classifier
        self.min_confidence = float(min_confidence)
        self.classes = classes
        self.batch_size = check_positive_int(batch_size, "batch_size")

    def _columns(self, y, n_out: int) -> np.ndarray:
        classes = self.classes if self.classes is not None else getattr(self.classifier, "classes_", None)
        yv = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y).reshape(-1)
        if classes is None:
            if yv.dtype.kind not in "iu" or (yv.size and (yv.min() < 0 or yv.max() >= n_out)):
                raise ValueError(
                    f"labels must be column indices 0..{n_out - 1} when the classifier has no classes_; pass classes="
                )
            return yv.astype(np.int64)
        lookup = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
        try:
            return np.array([lookup[v] for v in yv.tolist()], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"label {exc.args[0]!r} is not one of the classifier's classes {list(lookup)}") from exc

    def confidence(self, x, y) -> np.ndarray:
        """The classifier's probability of each sample's intended class."""
        xt = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(torch.float32)
        if isinstance(self.classifier, nn.Module):
            proba = predict_proba(self.classifier, xt, self.batch_size).numpy()
        else:
            flat = xt.reshape(xt.shape[0], -1).numpy()
            proba = np.concatenate(
                [
                    np.asarray(self.classifier.predict_proba(flat[i : i + self.batch_size]))
                    for i in range(0, len(flat), self.batch_size)
                ]
                or [np.zeros((0, 1))]
            )
        cols = self._columns(y, proba.shape[1])
        if len(cols) != len(proba):
            raise ValueError(f"got {len(proba)} samples but {len(cols)} labels")
        return proba[np.arange(len(cols)), cols]

    def __call__(self, x, y) -> np.ndarray:
        """Boolean mask of the samples to keep."""
        return self.confidence(x, y) >= self.min_confidence

    def __repr__(self) -> str:
        return f"SyntheticFilter({type(self.classifier).__name__}, min_confidence={self.min_confidence})"


def filter_synthetic(x, y, classifier, min_confidence: float = 0.5, classes=None):
    """Keep the synthetic samples ``classifier`` assigns to their intended class with
    probability >= ``min_confidence``; see :class:`SyntheticFilter`.

    Returns ``(x_kept, y_kept)`` in the types they came in. For
    :meth:`SyntheticAugmenter.wrap` pass ``filter=SyntheticFilter(classifier, min_confidence)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = torch.cat([torch.zeros(20, 2), torch.ones(20, 2)]); y = [0] * 20 + [1] * 20
    >>> clf = LogisticRegression().fit(X.numpy(), y)
    >>> xs, ys = filter_synthetic(torch.tensor([[0.0, 0.0], [1.0, 1.0]]), torch.tensor([1, 1]), clf, 0.6)
    >>> xs.tolist(), ys.tolist()
    ([[1.0, 1.0]], [1])
    """
    mask = SyntheticFilter(classifier, min_confidence, classes)(x, y)
    return _take(x, mask), _take(y, mask)


def _take(a, mask: np.ndarray):
    if isinstance(a, torch.Tensor):
        return a[torch.from_numpy(mask).to(a.device)]
    if isinstance(a, np.ndarray):
        return a[mask]
    return [v for v, keep in zip(a, mask) if keep]
