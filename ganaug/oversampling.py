"""GANOverSampler: ganaug as an imbalanced-learn sampler (``fit_resample``).

The sampler trains a :class:`ganaug.SyntheticAugmenter` on all the data it is
given and appends class-conditional GAN samples until every class reaches the
count asked for by ``sampling_strategy``; the real rows come back first,
unchanged and in order.

imbalanced-learn is an optional dependency. When it is installed,
:class:`GANOverSampler` subclasses imblearn's ``BaseOverSampler``, so it takes
``sampling_strategy`` in every imblearn form (resolved by imblearn's own
``check_sampling_strategy``), returns lists, DataFrames and Series as it got
them, and is recognised as an over-sampler by imblearn's pipelines and common
tests. Without it the class still imports, constructs, clones and prints, and
``fit`` / ``fit_resample`` raise an ``ImportError`` saying what to install.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils import check_consistent_length, column_or_1d

from ._validation import (
    BOOL,
    NONE,
    InstanceOf,
    Interval,
    Options,
    check_params,
    child_seeds,
    resolve_device,
    resolve_seed,
)
from ._warnings import warn
from .augmenter import SyntheticAugmenter
from .config import IMAGE_ARCHITECTURES, GANConfig, GANParamsMixin
from .image_rows import image_shape, image_side, looks_flattened_channels_last
from .self_check import duplicate_rows, run_self_check, set_reach, warn_lost
from .tabular import TableEncoder, categorical_columns, has_text, integer_column_mask

IMBLEARN_MISSING = (
    "GANOverSampler needs imbalanced-learn (its sampling_strategy handling and Pipeline); "
    "install it with `pip install imbalanced-learn`, or use ganaug.SyntheticAugmenter directly"
)


class _ImblearnMissing(BaseEstimator):
    """Stand-in base when imbalanced-learn is not installed: constructs, refuses to fit."""

    _estimator_type = "sampler"
    _sampling_type = "over-sampling"

    def fit(self, X, y, **params):
        raise ImportError(IMBLEARN_MISSING)

    def fit_resample(self, X, y, **params):
        raise ImportError(IMBLEARN_MISSING)


try:  # optional dependency: see the module docstring
    from imblearn.over_sampling.base import BaseOverSampler as _SamplerBase
    from imblearn.utils import check_target_type as _check_target_type

    HAS_IMBLEARN = True
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    _SamplerBase = _ImblearnMissing
    HAS_IMBLEARN = False

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _validate_data = None


class GANOverSampler(GANParamsMixin, _SamplerBase):
    """Over-sample classes with a class-conditional GAN (imbalanced-learn sampler).

    ``fit_resample(X, y)`` trains one class-conditional GAN on all of ``X``
    (for 2-D data with 5 classes or more the offset generator, which moves
    standardised training rows of the class by learned offsets, and an MLP
    GAN with fewer; for images the warp generator, which bends training
    images of the class into new shapes)
    through :class:`ganaug.SyntheticAugmenter`, then appends GAN samples of
    each class until the class counts match ``sampling_strategy``. Real rows
    come first, unchanged and in order; :attr:`synthetic_mask_` tells which
    returned rows are synthetic. Use it as the first step of an
    ``imblearn.pipeline.Pipeline`` so that only training folds are resampled.

    Needs imbalanced-learn (``pip install imbalanced-learn``).

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        How many samples each class should have after resampling, in any form
        imbalanced-learn's over-samplers accept:

        - ``float`` (binary targets only): the wanted ratio of minority to
          majority count after resampling;
        - ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``,
          ``"auto"`` (= ``"not majority"``): which classes are topped up to the
          majority count;
        - ``dict``: ``{class: wanted count}`` for the classes to over-sample;
        - callable: ``f(y) -> dict`` as above.
    random_state : int, RandomState instance or None, default=None
        Drives GAN initialisation, training and sampling. Same seed on CPU:
        same output.
    gan : GANConfig, optional
        Every GAN hyperparameter (:class:`ganaug.GANConfig`); None means the
        defaults. In a pipeline a grid search reaches each field as
        ``<step>__gan__<field>``. With the defaults the auxiliary
        classification loss is off on flat features (``"auto"``;
        docs/settings.md).
    architecture : {"auto", "dcgan", "mlp", "offset", "warp"}, optional
        When given, replaces ``gan.architecture``.
    n_steps : int, optional
        When given, replaces ``gan.n_steps``.
    image_shape : tuple of int (C, H, W), optional
        Treat the rows of a 2-D ``X`` as flattened images of this shape and
        train the image GAN on them (1 or 3 channels, 8 to 512 px a side,
        square or not; sampled back at their own size, e.g. sklearn's 8x8
        digits with ``image_shape=(1, 8, 8)``, or colour photos of 96 x 128
        with ``image_shape=(3, 96, 128)``). Not needed for image arrays
        ``(n, H, W)`` / ``(n, C, H, W)``, whose shape is used. Colour rows
        are read channel by channel, as ``(C, H, W)`` flattens; rows that
        look flattened channels-last, ``(H, W, C)``, get a warning naming
        the reshape that fixes them. ``None`` with
        ``architecture="auto"``: rows of ``s * s`` columns whose neighbouring
        columns go together as pixels do are read as ``(1, s, s)`` images
        (Notes; ``image_shape_`` says what was used).
    categorical_features : "auto", None, array of int, array of str or array of bool, default="auto"
        Which columns of a table are categories (the GAN models each as a
        one-hot block and samples one of the levels seen in fit, never a value
        between them). ``"auto"``: the DataFrame columns of ``category``,
        ``object``, ``string`` or ``bool`` dtype (none for arrays); ``None``:
        none; else column indices, DataFrame column names or a boolean mask,
        as for imblearn's ``SMOTENC``. A DataFrame comes back with its columns
        and dtypes; a column of text must be declared categorical.
    self_check : "auto" or bool, default="auto"
        Check on the user's own data that the samples help before using them
        (:mod:`ganaug.self_check`): hold out a fifth of every class, fit the
        GAN on the rest, and score by the held-out rows' balanced
        probability of their own class a small classifier trained on the
        rest balanced with the GAN's samples (the warp generator at its
        trained deformation reach, half and a quarter of it), one balanced
        by duplicating real rows, and one trained on the rest as it is with
        each loss that weighs the classes (class-weighted cross-entropy,
        logit adjustment); the last three, which need no GAN, by their mean
        over three held-out splits. The best is used: a reach; when
        duplication wins, duplicates of real rows instead of samples; when a
        loss wins, nothing is added (train your classifier with that loss
        on the rows as they are: ``self_check_["loss"]``); the last two with
        a :class:`ganaug.self_check.SyntheticSamplesWarning`. Costs a
        second GAN fit and twelve small classifiers, which judge images
        larger than 32 px shrunk to 32 px on the longer side
        (:func:`ganaug.self_check.judged`); about 5 times a plain fit, at 28
        x 28 as at 96 x 128 (docs/settings.md, "Beyond digits", for what it
        chose on five kinds of images). ``"auto"``: on for image arrays
        ``(n, H, W)`` / ``(n, C, H, W)``, where it was chosen by the worst
        of four image families on held-out images; off for a 2-D ``X``
        (feature tables, flattened images), whose classifier is mostly a
        scikit-learn model that the check's small network and losses do
        not stand for: on four scikit-learn tables ``True`` lowered the
        mean balanced accuracy from 0.865 to 0.837, choosing logit
        adjustment, which those classifiers do not offer, on 15 of 40
        splits. ``False``: the samples are always used.
    device : str, default="auto"
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    verbose : int, default=0
        0 silent, 1 a progress bar while the GAN trains, and when the check
        runs first one over the check's own GAN ("ganaug self-check: GAN")
        and one over its classifiers (with the time left).

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{class: number of synthetic samples asked for}`` for the
        over-sampled classes (none are added when the self-check chose a
        loss).
    augmenter_ : SyntheticAugmenter or None
        The fitted augmenter behind the samples (draw more with its
        ``sample``); None when the self-check chose duplicates or a loss.
    generator_ : torch.nn.Module or None
        The EMA generator that drew the synthetic rows (``augmenter_.generator_``).
    self_check_ : dict or None
        When the check ran (``self_check=True``, or ``"auto"`` on image arrays):
        ``scores`` (each candidate's balanced held-out probability of the
        own class, what ``score`` names),
        ``chosen``, ``reach`` (the warp generator's reach used, as a
        fraction of the trained one), ``loss`` (the loss to train with when
        one was chosen, else None), ``n_held_out``, ``n_splits`` and
        ``seconds`` (what the check took: ``"gan fit"`` on the fit part,
        ``"classifiers"``); None when it did not run.
    synthetic_mask_ : ndarray of bool, shape (n_samples_resampled,)
        ``True`` for the synthetic rows of the last ``fit_resample`` output.
    n_features_in_ : int
        Number of features (``X.shape[1]``) seen in fit.
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X`` seen in fit.
    categorical_features_ : ndarray of int
        Indices of the columns treated as categories.
    image_shape_ : tuple of int (C, H, W) or None
        The shape the GAN read each row as in the last ``fit_resample``:
        ``image_shape``, the images' own shape, the one ``"auto"`` found, or
        ``None`` for flat features.

    See Also
    --------
    ganaug.SyntheticAugmenter : The GAN behind the sampler; mixes synthetic
        samples into torch DataLoaders.
    imblearn.over_sampling.SMOTE, imblearn.over_sampling.RandomOverSampler :
        Interpolation and duplication baselines to compare against.

    Notes
    -----
    Measured on images (docs/settings.md, "Beyond digits"; an imbalanced
    long tail down to 4 or 5 images a class, recipes/mnist_imbalanced.py,
    5 seeds, balanced accuracy), with the check it runs on image arrays by
    default: on handwritten digits it beats duplicating by 2.9 points and is
    level with the logit-adjusted loss (+0.3), on rendered textures level
    with the best baseline, the class-weighted loss (+0.1). **Not on every
    kind of image:** on font glyphs it is 1.4 points below the
    logit-adjusted loss, and on rendered geometric shapes 2.6 below it (the
    check chose that loss on 4 of 5 seeds; always using the samples,
    ``self_check=False``, lost 9.2 points there, bent shapes becoming other
    shapes). Where a loss that weighs the classes wins, the check says so
    and adds nothing: train with that loss (``ganaug.classifier.LOSSES``).
    For smooth strokes, ``gan=GANConfig(warp_resample="bilinear")`` gave
    digits +4.3 points over the logit-adjusted loss and cost textures 5
    (without the check). On flat feature tables (four scikit-learn tables
    at two imbalance ratios, benchmarks/oversampling_tabular.py,
    docs/settings.md), where the check is off by default, it leads SMOTE
    with gradient boosting (0.855 against 0.797 balanced accuracy) and is
    level with it under logistic regression (0.875 against 0.871; SMOTE's
    largest lead on one table, 0.3 points, is wine with 25% of the minority
    rows).
    Flat rows that are images get the image generator: with
    ``architecture="auto"`` and no ``image_shape``, rows of ``s * s`` columns
    (``8 <= s <= 64``) are read as ``s x s`` grayscale images when,
    laid out as a grid, horizontally and vertically adjacent columns each
    correlate on average at least 0.25 more than all pairs of columns do
    (``ganaug.config.IMAGE_ROW_MIN_CORRELATION``; sklearn's 8x8 digits and the
    MNIST sample pass, tables and 1-D series such as spectra do not:
    benchmarks/image_rows.py). Name a flat architecture (``"offset"``,
    ``"mlp"``) to keep such rows flat.

    The GAN trains on every class, including the ones not over-sampled: the
    conditional model shares what it learns across classes, which is what
    lets it produce plausible samples of a class seen only a few times.

    Sparse input is densified for the GAN and the output is sparse again (in
    the input's format); only use it where the dense matrix fits in memory.
    Integer columns, and float columns whose training values are all whole
    numbers (counts, ratings, pixel intensities stored as floats), get
    rounded synthetic values inside their training range; categorical
    columns get levels seen in fit. Missing values are refused (impute
    before the sampler). ``fit`` only validates and computes
    ``sampling_strategy_`` (imblearn's convention); the GAN is trained by
    ``fit_resample``.

    Examples
    --------
    >>> import numpy as np
    >>> from collections import Counter
    >>> from ganaug import GANOverSampler
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(0, 1, (60, 4)), rng.normal(3, 1, (12, 4))]
    >>> y = np.r_[np.zeros(60, dtype=int), np.ones(12, dtype=int)]
    >>> from ganaug import GANConfig
    >>> tiny = GANConfig(mlp_hidden=32)  # a tiny model and budget for the example
    >>> sampler = GANOverSampler(gan=tiny, n_steps=5, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> sorted(Counter(y_res.tolist()).items())
    [(0, 60), (1, 60)]
    >>> bool((X_res[:72] == X).all()), int(sampler.synthetic_mask_.sum())
    (True, 48)

    In a pipeline only the training data is resampled:

    >>> from imblearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = make_pipeline(GANOverSampler(gan=tiny, n_steps=5, random_state=0), LogisticRegression())
    >>> model.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _sampling_type = "over-sampling"

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        gan: GANConfig | None = None,
        architecture: str | None = None,
        n_steps: int | None = None,
        image_shape: tuple[int, int, int] | None = None,
        categorical_features="auto",
        self_check: bool | str = "auto",
        device: str = "auto",
        verbose: int = 0,
    ):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.gan, self.architecture, self.n_steps = gan, architecture, n_steps
        self.image_shape = image_shape
        self.categorical_features = categorical_features
        self.self_check = self_check
        self.device = device
        self.verbose = verbose

    # sampling_strategy and random_state: imblearn's own constraints; the GAN fields: GANConfig; device:
    # SyntheticAugmenter; the others here (image_shape's length and values in _gan_input, categorical_features'
    # entries in tabular.categorical_columns)
    _constraints = {
        **GANParamsMixin._constraints,
        "image_shape": [NONE, InstanceOf(tuple, list)],
        "categorical_features": [NONE, InstanceOf(str, list, tuple, np.ndarray)],
        "self_check": [Options("auto"), BOOL],
    }

    # -- validation ---------------------------------------------------------------------------
    def _check_X_y(self, X, y, accept_sparse=None):
        """Like imblearn's, but also accepts image arrays (n, H, W) and (n, C, H, W), and tables with
        categorical or text columns (kept as an object array: the GAN sees them encoded). Torch tensors are read
        as arrays, as imblearn's own samplers read them (the resampled data comes back as numpy arrays)."""
        X, y = (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v for v in (X, y))
        y, binarize_y = _check_target_type(y, indicate_one_vs_all=True)
        check_params(self._constraints, self.get_params(deep=False))
        shape = np.shape(X) if not sparse.issparse(X) else X.shape
        self._integer_columns = integer_column_mask(X)
        self.categorical_features_ = np.zeros(0, dtype=int)
        if len(shape) == 2:
            self.categorical_features_ = categorical_columns(X, self.categorical_features, shape[1])
        if len(self.categorical_features_) or has_text(X):
            if sparse.issparse(X):
                raise TypeError("categorical columns need a dense X (a DataFrame or an array); got a sparse matrix")
            if self.image_shape is not None:
                raise ValueError("image_shape and categorical columns exclude each other: images have no categories")
            if _validate_data is not None:  # names and width only, as SMOTENC does
                _validate_data(self, X=X, y=y, reset=True, skip_check_array=True)
            else:  # pragma: no cover - older scikit-learn
                self._validate_data(X, y, reset=True, cast_to_ndarray=False)
            if self._integer_columns is not None:
                self._integer_columns[self.categorical_features_] = False
            # a numeric array with categorical columns comes back numeric
            self._input_dtype = X.dtype if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" else None
            X = X.to_numpy(dtype=object) if hasattr(X, "to_numpy") else np.asarray(X, dtype=object)
            y = column_or_1d(y)
            check_consistent_length(X, y)
            return X, y, binarize_y
        kwargs = dict(reset=True, accept_sparse=["csr", "csc"], allow_nd=True)
        if _validate_data is not None:
            X, y = _validate_data(self, X=X, y=y, **kwargs)
        else:  # pragma: no cover - older scikit-learn
            X, y = self._validate_data(X, y, **kwargs)
        if X.ndim > 4:
            raise ValueError(
                f"X must be 2-D (n_samples, n_features) or images (n, H, W) / (n, C, H, W); got shape {X.shape}"
            )
        return X, y, binarize_y

    def fit_resample(self, X, y, **params):
        """Train the GAN on ``(X, y)`` and return the data with synthetic rows appended.

        Parameters
        ----------
        X : {array-like, DataFrame, sparse matrix} of shape (n_samples, n_features), or image array
            Flat features, flattened images (with ``image_shape``), or images
            ``(n, H, W)`` / ``(n, C, H, W)``.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        X_resampled : same type as X, shape (n_samples_new, ...)
            The ``n_samples`` real rows, unchanged and in order, then the
            synthetic rows (grouped by class, in ``sampling_strategy_`` order);
            same dtype, trailing shape, DataFrame columns or sparse format as X.
        y_resampled : same type as y, shape (n_samples_new,)
            Their labels.
        """
        return super().fit_resample(X, y, **params)

    # -- resampling ---------------------------------------------------------------------------
    def _fit_resample(self, X, y):
        dense = X.toarray() if sparse.issparse(X) else X
        encoder = None
        if X.dtype == object:  # a table with categorical columns (see _check_X_y)
            encoder = TableEncoder(self.categorical_features_, getattr(self, "feature_names_in_", None)).fit(X)
            gan_x = encoder.transform(X)
        else:
            gan_x = self._gan_input(dense)
        self.image_shape_ = image_shape(gan_x)
        classes, codes = np.unique(y, return_inverse=True)
        # the augmenter holds the classes by the user's labels where it can (integers, names), so that its
        # warnings and classes_ name them; other labels (floats, booleans) by their index in ``classes``
        gan_classes = classes if classes.dtype.kind in "iuUSO" else np.arange(len(classes))
        code_of = {c: i for i, c in enumerate(classes)}
        # "auto": the check on image arrays, where it was chosen; not on 2-D X, whose classifier is mostly a
        # scikit-learn model that the check's small CNN and torch losses do not stand for
        checked = X.ndim > 2 if isinstance(self.self_check, str) else bool(self.self_check)
        check_seed = resolve_seed(self.random_state) if checked else None
        self.self_check_ = None if check_seed is None else self._run_self_check(gan_x, codes, len(classes), check_seed)
        augmenter = None
        if self.self_check_ is None or self.self_check_["chosen"].startswith("gan"):
            augmenter = self._augmenter(self.random_state if check_seed is None else check_seed)
            augmenter.fit((gan_x, gan_classes[codes]))
            if self.self_check_ is not None and self.self_check_["reach"] is not None:
                set_reach(augmenter.generator_, self.self_check_["reach"])

        # the top-ups asked for; none when the self-check chose a loss, which wants the rows as they are
        asked = self.sampling_strategy_ if self.self_check_ is None or self.self_check_["loss"] is None else {}
        wanted = [np.full(int(n), code_of[c], dtype=np.int64) for c, n in asked.items() if n > 0]
        syn_codes = np.concatenate(wanted) if wanted else np.zeros(0, dtype=np.int64)
        syn_x = np.zeros((0,) + gan_x.shape[1:], dtype=gan_x.dtype)
        if len(syn_codes) and augmenter is None:  # the self-check chose duplicates: real rows of each class, drawn
            syn_x = gan_x[duplicate_rows(codes, syn_codes, np.random.RandomState(child_seeds(check_seed, 5)[4]))]
        elif len(syn_codes):
            syn_x = np.asarray(augmenter.sample(len(syn_codes), y=gan_classes[syn_codes])[0])
        if encoder is not None:
            syn_x = encoder.inverse_transform(syn_x.reshape(len(syn_codes), gan_x.shape[1]))  # (0, F) when none
        syn_x = syn_x.reshape((len(syn_codes),) + X.shape[1:])
        mask = self._integer_columns
        if mask is not None and mask.any() and syn_x.ndim == 2 and len(mask) == syn_x.shape[1]:
            syn_x[:, mask] = np.round(syn_x[:, mask].astype(np.float64))
        syn_x = syn_x.astype(X.dtype, copy=False)

        if sparse.issparse(X):
            X_res = sparse.vstack([X, sparse.csr_matrix(syn_x)], format=X.format)
        else:
            X_res = np.concatenate([X, syn_x])
        if encoder is not None and self._input_dtype is not None:
            X_res = X_res.astype(self._input_dtype)
        y_res = np.concatenate([y, classes[syn_codes]])

        self.augmenter_ = augmenter
        self.generator_ = None if augmenter is None else augmenter.generator_
        self.synthetic_mask_ = np.r_[np.zeros(X.shape[0], dtype=bool), np.ones(len(syn_codes), dtype=bool)]
        return X_res, y_res

    def _augmenter(self, random_state) -> SyntheticAugmenter:
        return SyntheticAugmenter(
            gan=self._gan_config(),
            strategy="conditional",
            random_state=random_state,
            device=self.device,
            verbose=self.verbose,
        )

    def _run_self_check(self, gan_x: np.ndarray, codes: np.ndarray, n_classes: int, seed: int) -> dict:
        """The held-out check of ``self_check=True`` (:func:`ganaug.self_check.run_self_check`); warns when
        duplicating real rows or a loss beat every synthetic variant."""

        def fit_augmenter(x, c):
            return self._augmenter(seed)._fit_check_part(x, c.astype(np.int64))

        result = run_self_check(
            gan_x,
            codes,
            fit_augmenter=fit_augmenter,
            n_classes=n_classes,
            seed=seed,
            device=resolve_device(self.device),
            verbose=self.verbose,
        )
        if result["chosen"] == "duplicates":
            warn_lost(
                "GANOverSampler",
                result,
                lost="a classifier balanced with the GAN's samples did worse than one balanced by duplicating real rows",
                instead="the classes were topped up with duplicates of real rows instead (augmenter_ is None; "
                "self_check=False always uses the samples)",
            )
        elif result["loss"] is not None:
            warn_lost(
                "GANOverSampler",
                result,
                lost=f"a classifier trained on the rows as they are with the {result['loss']} loss did better than "
                "one balanced with the GAN's samples or with duplicates",
                instead="nothing was added (augmenter_ is None): train your classifier with that loss on these rows "
                "(ganaug.classifier.LOSSES; for scikit-learn models class_weight='balanced' is the class-weighted "
                "loss), or set self_check=False to always use the samples",
            )
        return result

    def _gan_input(self, X: np.ndarray) -> np.ndarray:
        """X in the shape the augmenter models: (n, F) features or (n, [C,] H, W) images."""
        shape = self.image_shape
        if shape is None:
            architecture = self._gan_config().architecture
            if X.ndim > 2:
                return X
            if architecture in IMAGE_ARCHITECTURES:
                raise ValueError(
                    f"architecture={architecture!r} needs images: pass image_shape=(C, H, W) for flattened image rows, "
                    "or X as an (n, H, W) / (n, C, H, W) array"
                )
            side = image_side(X) if architecture == "auto" else None
            if side is None:
                return X
            shape = (1, side, side)
        if (
            not isinstance(shape, (tuple, list))
            or len(shape) != 3
            or not all(Interval("int", 1).accepts(s) for s in shape)
        ):
            raise ValueError(f"image_shape must be three positive integers (C, H, W), e.g. (1, 28, 28); got {shape!r}")
        shape = tuple(int(s) for s in shape)
        if X.ndim == 2:
            if math.prod(shape) != X.shape[1]:
                raise ValueError(
                    f"image_shape={shape} holds {math.prod(shape)} values per row but X has {X.shape[1]} features; "
                    "pass the (C, H, W) shape the rows were flattened from"
                )
            if looks_flattened_channels_last(X, shape):
                _, h, w = shape
                warn(
                    f"image_shape={shape} reads each row channel by channel, but these rows look flattened "
                    f"channels-last (H, W, C), as numpy arrays of Pillow images and torchvision's CIFAR10.data are: "
                    f"the GAN would see each image's channels shuffled into its pixels. Pass the images as an array "
                    f"instead, X.reshape(-1, {h}, {w}, 3).transpose(0, 3, 1, 2), with image_shape=None",
                    UserWarning,
                )
            return X.reshape((X.shape[0],) + shape)
        if image_shape(X) != shape:
            raise ValueError(
                f"image_shape={shape} does not match the images' shape {X.shape[1:]}; "
                "leave image_shape=None for image arrays (their shape is used)"
            )
        return X

    # -- tags ---------------------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if HAS_IMBLEARN:
            tags.input_tags.three_d_array = True  # images (n, H, W); (n, C, H, W) too
            tags.input_tags.sparse = True  # densified for the GAN, returned sparse
            tags.input_tags.dataframe = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"X_types": ["2darray", "3darray", "sparse", "dataframe"]}


__all__ = ["GANOverSampler"]
