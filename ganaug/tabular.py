"""Tables with categorical columns: which columns are categories, and the float matrix the MLP GAN trains on.

A categorical column becomes a one-hot block (one 0/1 column per level seen in fit); the GAN models the
blocks as features, and a synthetic row takes, in each block, the level with the largest value. Continuous
columns pass through as floats; GANOverSampler rounds those whose training values are whole numbers.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def column_kinds(X) -> list[str] | None:
    """The numpy dtype kind of each column of a DataFrame (``"O"`` for category, string and other dtypes without
    one); ``None`` when ``X`` is not a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> column_kinds(pd.DataFrame({"a": [1.5], "b": pd.Categorical(["x"]), "c": [True]})), column_kinds([[1.5]])
    (['f', 'O', 'b'], None)
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return None
    return [getattr(dt, "kind", "O") for dt in dtypes]


def has_text(X) -> bool:
    """Whether X (a DataFrame or array) holds columns that are not numbers."""
    kinds = column_kinds(X)
    if kinds is not None:
        return any(kind not in "biufc" for kind in kinds)
    if sparse.issparse(X):
        return False
    dtype = getattr(X, "dtype", None)
    if dtype is None:  # a list: numpy decides
        dtype = np.asarray(X).dtype
    return dtype.kind in "OSU"


def integer_column_mask(X) -> np.ndarray | None:
    """Which columns get rounded synthetic values: integer and boolean columns, and float columns whose training
    values are all whole numbers (counts, ratings, pixel intensities stored as floats)."""
    kinds = column_kinds(X)
    if kinds is not None:
        return np.array([whole_numbers(X.iloc[:, j], kind) for j, kind in enumerate(kinds)], dtype=bool)
    if isinstance(X, np.ndarray) and X.ndim == 2:
        return np.array([whole_numbers(X[:, j], X.dtype.kind) for j in range(X.shape[1])], dtype=bool)
    return None


def whole_numbers(column, kind: str) -> bool:
    """Whether a column of dtype kind ``kind`` holds whole numbers only (integer and bool dtypes always do)."""
    if kind in "biu":
        return True
    return kind == "f" and bool(np.all(np.mod(np.asarray(column, dtype=np.float64), 1) == 0))


def categorical_columns(X, categorical_features, n_features: int) -> np.ndarray:
    """Indices of the categorical columns of ``X``, from ``categorical_features`` as the user gave it.

    ``"auto"``: the DataFrame columns of category, object, string or bool dtype (none for arrays);
    ``None``: none; else column indices, DataFrame column names, or a boolean mask of length ``n_features``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"size": [1.0, 2.0], "colour": pd.Categorical(["red", "blue"]), "n": [3, 4]})
    >>> categorical_columns(frame, "auto", 3).tolist(), categorical_columns(frame, ["n"], 3).tolist()
    ([1], [2])
    >>> categorical_columns(frame.to_numpy(), [True, False, False], 3).tolist()
    [0]
    """
    if categorical_features is None:
        return np.zeros(0, dtype=int)
    columns = list(getattr(X, "columns", []))
    if isinstance(categorical_features, str):
        if categorical_features != "auto":
            if categorical_features in columns:
                return np.array([columns.index(categorical_features)])
            raise ValueError(
                f"categorical_features must be 'auto', None, column indices, column names or a boolean mask; "
                f"got {categorical_features!r}"
            )
        # category, object and string dtypes (kind "O", or "S" / "U" for bytes and text) and bool ("b")
        kinds = column_kinds(X)
        return np.zeros(0, dtype=int) if kinds is None else np.flatnonzero([k in "OSUb" for k in kinds])
    given = list(np.ravel(np.asarray(categorical_features, dtype=object)))
    if given and all(isinstance(v, (bool, np.bool_)) for v in given):
        if len(given) != n_features:
            raise ValueError(
                f"a boolean categorical_features mask needs one entry per column ({n_features}); got {len(given)}"
            )
        return np.flatnonzero(given)
    out = []
    for v in given:
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            if not -n_features <= v < n_features:
                raise ValueError(f"categorical_features index {v} is out of range for {n_features} columns")
            out.append(int(v) % n_features)
        elif v in columns:
            out.append(columns.index(v))
        else:
            hint = f"; the columns are {columns}" if columns else " (X has no column names: pass indices)"
            raise ValueError(f"categorical_features names a column X does not have: {v!r}{hint}")
    return np.unique(np.array(out, dtype=int))


class TableEncoder:
    """Mixed-type rows ``(n, F)`` <-> the float matrix the MLP GAN trains on.

    Parameters
    ----------
    categorical : array of int
        Indices of the categorical columns.
    names : list of str, optional
        DataFrame column names (for error messages; columns of an array are named by index).

    Attributes
    ----------
    levels_ : dict
        ``{column index: array of levels seen in fit}``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.5, "red"], [1.5, "blue"], [2.5, "red"]], dtype=object)
    >>> enc = TableEncoder([1]).fit(X)
    >>> enc.transform(X).tolist()
    [[0.5, 0.0, 1.0], [1.5, 1.0, 0.0], [2.5, 0.0, 1.0]]
    >>> enc.inverse_transform(np.array([[0.9, 0.2, 0.7]])).tolist()
    [[0.9, 'red']]
    """

    def __init__(self, categorical, names=None):
        self.categorical = [int(j) for j in categorical]
        self.names = None if names is None else list(names)

    def _ref(self, j: int) -> str:
        """How the user names column j: its DataFrame name, else its index."""
        return str(j) if self.names is None else repr(self.names[j])

    def fit(self, X: np.ndarray) -> TableEncoder:
        n_features = X.shape[1]
        self.continuous_ = [j for j in range(n_features) if j not in self.categorical]
        self.levels_, self.frequency_ = {}, {}
        for j in self.continuous_:
            self._float_column(X, j)  # refuses text and missing values, naming the column
        for j in self.categorical:
            column = X[:, j]
            missing = _is_missing(column)
            if missing.any():
                raise ValueError(_missing_message(self._ref(j), int(missing.sum())))
            # levels compared as text; each kept as the value it was (3, not "3"): the first row holding it
            _, first, counts = np.unique(column.astype(str), return_index=True, return_counts=True)
            self.levels_[j] = column[first].astype(object)
            self.frequency_[j] = counts / counts.sum()
        return self

    def _float_column(self, X: np.ndarray, j: int) -> np.ndarray:
        try:
            column = np.asarray(X[:, j], dtype=np.float64)
        except (TypeError, ValueError):
            example = next(v for v in X[:, j] if not _number(v))
            raise TypeError(
                f"column {self._ref(j)} holds non-numeric values (e.g. {example!r}); declare it categorical "
                f"(categorical_features=[..., {self._ref(j)}], or a pandas 'category' column) or encode it as numbers"
            ) from None
        missing = np.isnan(column)
        if missing.any():
            raise ValueError(_missing_message(self._ref(j), int(missing.sum())))
        return column

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Continuous columns as floats, then one one-hot block per categorical column."""
        parts = [np.stack([self._float_column(X, j) for j in self.continuous_], 1)] if self.continuous_ else []
        for j in self.categorical:
            column = X[:, j].astype(str)
            parts.append((column[:, None] == self.levels_[j].astype(str)[None, :]).astype(np.float64))
        return np.concatenate(parts, axis=1) if parts else np.zeros((X.shape[0], 0))

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Rows of the encoded matrix back as ``(n, F)`` objects: each block's largest value picks the level
        (ties go to the level most frequent in fit)."""
        n_features = len(self.continuous_) + len(self.categorical)
        out = np.empty((Z.shape[0], n_features), dtype=object)
        for pos, j in enumerate(self.continuous_):
            out[:, j] = Z[:, pos]
        start = len(self.continuous_)
        for j in self.categorical:
            block = Z[:, start : start + len(self.levels_[j])]
            out[:, j] = self.levels_[j][np.argmax(block + 1e-9 * self.frequency_[j], axis=1)]
            start += len(self.levels_[j])
        return out


def _number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _is_missing(column: np.ndarray) -> np.ndarray:
    """None, NaN, pandas' NA and NaT (the values that differ from themselves, or cannot say)."""

    def missing(v) -> bool:
        try:
            return v is None or bool(v != v)
        except TypeError:  # pandas.NA: its comparisons are NA too
            return True

    return np.array([missing(v) for v in column], dtype=bool)


def _missing_message(name: str, count: int) -> str:
    return (
        f"column {name} has {count} missing value(s); GANOverSampler needs complete rows: impute them first "
        "(e.g. sklearn.impute.SimpleImputer in the pipeline before the sampler) or drop those rows"
    )
