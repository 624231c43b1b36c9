"""GANOverSampler: the imblearn sampler face (fit_resample, sampling_strategy, pipelines)."""

import importlib
import sys
import warnings
from collections import Counter

import joblib
import numpy as np
import pytest
import torch

pytest.importorskip("imblearn")

from imblearn.over_sampling import RandomOverSampler  # noqa: E402
from imblearn.pipeline import make_pipeline  # noqa: E402
from imblearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, clone  # noqa: E402
from sklearn.datasets import make_blobs, make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, cross_validate  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from ganaug import GANConfig, GANOverSampler, SyntheticAugmenter  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:mode collapse suspected:UserWarning", "ignore:classes .* have fewer than:UserWarning"
    ),
    pytest.mark.usefixtures("one_torch_thread"),  # tiny GAN fits are 5-10x slower on two threads of a shared CPU
]

# a GAN budget small enough to fit in ~0.1 s on one CPU thread
FAST = dict(gan=GANConfig(mlp_hidden=32, latent_dim=16, batch_size=16), n_steps=5)
# image arrays: the self-check (on for them by default) has tests of its own in test_self_check.py
FAST_DCGAN = dict(
    gan=GANConfig(g_width=8, d_width=8, latent_dim=16, batch_size=8, architecture="dcgan"), n_steps=2, self_check=False
)


@pytest.fixture
def imbalanced():
    """3 classes with 50 / 20 / 8 rows, float32 features and int32 labels, rows shuffled."""
    X, y = make_classification(
        n_samples=78,
        n_features=6,
        n_informative=4,
        n_classes=3,
        weights=[50 / 78, 20 / 78, 8 / 78],
        flip_y=0,
        random_state=0,
    )
    return X.astype(np.float32), y.astype(np.int32)


# -- imblearn's common sampler checks --------------------------------------------------------
# None skipped: GANOverSampler accepts dense, sparse (densified), list and DataFrame input and
# is deterministic for a fixed random_state, which the list / sparse / OVA checks compare on.
@parametrize_with_checks([GANOverSampler(**FAST, random_state=0)])
def test_imblearn_common_checks(estimator, check):
    check(estimator)


# -- what fit_resample returns ---------------------------------------------------------------
def test_real_rows_come_first_unchanged_then_synthetic_rows(imbalanced):
    X, y = imbalanced
    sampler = GANOverSampler(**FAST, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)

    n = len(y)
    np.testing.assert_array_equal(X_res[:n], X)
    np.testing.assert_array_equal(y_res[:n], y)
    assert X_res.dtype == np.float32 and y_res.dtype == np.int32
    assert sampler.synthetic_mask_.dtype == bool and sampler.synthetic_mask_.shape == (len(y_res),)
    assert not sampler.synthetic_mask_[:n].any() and sampler.synthetic_mask_[n:].all()
    # "auto": every class topped up to the majority count, exactly as sampling_strategy_ says
    assert sampler.sampling_strategy_ == {1: 30, 2: 42}
    assert Counter(y_res.tolist()) == {0: 50, 1: 50, 2: 50}
    # synthetic rows grouped by class in sampling_strategy_ order
    assert y_res[n:].tolist() == [1] * 30 + [2] * 42
    # synthetic values are finite and inside the training range of each feature
    syn = X_res[n:]
    assert np.isfinite(syn).all()
    assert (syn >= X.min(0)).all() and (syn <= X.max(0)).all()
    assert sampler.generator_ is sampler.augmenter_.generator_
    assert isinstance(sampler.augmenter_, SyntheticAugmenter) and not sampler.augmenter_.images_
    # "auto" weights resolve to off for flat features; the sampler's own config is left as given
    assert sampler.augmenter_.config_.aux_weight == 0.0 and sampler.augmenter_.config_.diversity_weight == 0.0
    assert sampler.gan.aux_weight == "auto" and sampler.augmenter_.discriminator_.aux is None


@pytest.mark.parametrize(
    "strategy",
    ["auto", "minority", "not minority", "not majority", "all", {1: 30, 2: 25}, lambda y: {2: 40}],
    ids=["auto", "minority", "not-minority", "not-majority", "all", "dict", "callable"],
)
def test_sampling_strategy_gives_the_counts_imblearn_gives(imbalanced, strategy):
    X, y = imbalanced
    sampler = GANOverSampler(**FAST, sampling_strategy=strategy, random_state=0)
    _, y_res = sampler.fit_resample(X, y)
    ros = RandomOverSampler(sampling_strategy=strategy, random_state=0)
    _, y_ros = ros.fit_resample(X, y)
    assert sampler.sampling_strategy_ == ros.sampling_strategy_
    assert Counter(y_res.tolist()) == Counter(y_ros.tolist())
    assert sampler.synthetic_mask_.sum() == sum(sampler.sampling_strategy_.values())


def test_float_sampling_strategy_on_binary_targets():
    X, y = make_blobs([40, 10], n_features=3, random_state=0)
    sampler = GANOverSampler(**FAST, sampling_strategy=0.5, random_state=0)
    _, y_res = sampler.fit_resample(X, y)
    assert Counter(y_res.tolist()) == {0: 40, 1: 20}


def test_float_sampling_strategy_is_refused_for_multiclass(imbalanced):
    with pytest.raises(ValueError, match="binary"):
        GANOverSampler(**FAST, sampling_strategy=0.5).fit_resample(*imbalanced)


def test_balanced_data_comes_back_unchanged():
    X, y = make_blobs([20, 20], n_features=3, random_state=0)
    sampler = GANOverSampler(**FAST, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X)
    np.testing.assert_array_equal(y_res, y)
    assert not sampler.synthetic_mask_.any()


def test_same_random_state_same_output_different_seed_different_rows(imbalanced):
    X, y = imbalanced
    a = GANOverSampler(**FAST, random_state=3).fit_resample(X, y)[0]
    b = GANOverSampler(**FAST, random_state=3).fit_resample(X, y)[0]
    c = GANOverSampler(**FAST, random_state=4).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[len(y) :], c[len(y) :])
    # a RandomState is accepted too, and consumed like sklearn does
    rs = GANOverSampler(**FAST, random_state=np.random.RandomState(0)).fit_resample(X, y)[0]
    assert rs.shape == a.shape


@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "eel"]), np.array([0.0, 1.0, 2.0])], ids=["str", "float"])
def test_any_class_labels_keep_their_dtype(imbalanced, labels):
    X, y = imbalanced
    y_named = labels[y]
    _, y_res = GANOverSampler(**FAST, random_state=0).fit_resample(X, y_named)
    assert y_res.dtype == y_named.dtype
    assert Counter(y_res.tolist()) == {v: 50 for v in labels.tolist()}


def test_dataframe_round_trip_keeps_columns_dtypes_and_series_name(imbalanced):
    pd = pytest.importorskip("pandas")
    X, y = imbalanced
    df = pd.DataFrame(X[:, :4].astype(np.float64), columns=["a", "b", "c", "d"])
    df["count"] = np.arange(len(df)) % 7  # an integer column
    ys = pd.Series(y, name="target")
    sampler = GANOverSampler(**FAST, random_state=0)
    X_res, y_res = sampler.fit_resample(df, ys)

    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert X_res.columns.tolist() == df.columns.tolist()
    assert X_res.dtypes.tolist() == df.dtypes.tolist()
    assert y_res.name == "target"
    pd.testing.assert_frame_equal(X_res.iloc[: len(df)], df)
    # synthetic integer values are rounded into the column's range, not truncated
    syn_counts = X_res["count"][sampler.synthetic_mask_]
    assert syn_counts.between(0, 6).all()
    np.testing.assert_array_equal(sampler.feature_names_in_, df.columns.to_numpy())


def test_list_input_comes_back_as_lists(imbalanced):
    X, y = imbalanced
    X_res, y_res = GANOverSampler(**FAST, random_state=0).fit_resample(X.tolist(), y.tolist())
    assert isinstance(X_res, list) and isinstance(y_res, list)
    assert X_res[: len(X)] == X.astype(np.float64).tolist()


def test_torch_tensors_are_read_as_arrays_and_resample_as_the_same_numpy_arrays_do(imbalanced, grey_images):
    for X, y, kw in ((*imbalanced, FAST), (*grey_images, FAST_DCGAN)):
        X_np, y_np = GANOverSampler(**kw, random_state=0).fit_resample(X, y)
        X_t, y_t = GANOverSampler(**kw, random_state=0).fit_resample(torch.as_tensor(X), torch.as_tensor(y))
        assert isinstance(X_t, np.ndarray) and isinstance(y_t, np.ndarray)  # as RandomOverSampler returns them
        np.testing.assert_array_equal(X_t, X_np)
        np.testing.assert_array_equal(y_t, y_np)


# -- images -----------------------------------------------------------------------------------
@pytest.fixture
def grey_images():
    """30 uint8 28x28 images, 20 of class 0 and 10 of class 1."""
    rng = np.random.RandomState(0)
    return (rng.rand(30, 28, 28) * 255).astype(np.uint8), np.r_[np.zeros(20, int), np.ones(10, int)]


def test_image_arrays_train_a_dcgan_and_keep_shape_and_dtype(grey_images):
    X, y = grey_images
    sampler = GANOverSampler(**FAST_DCGAN, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.shape == (40, 28, 28) and X_res.dtype == np.uint8
    np.testing.assert_array_equal(X_res[:30], X)
    assert sampler.augmenter_.images_
    # "auto" weights resolve to the image settings: the auxiliary loss and the mode-seeking term are on
    assert sampler.augmenter_.config_.aux_weight == 3.0 and sampler.augmenter_.config_.diversity_weight == 0.3
    tiny = GANConfig(g_width=8, d_width=8, latent_dim=16, batch_size=8)
    auto = GANOverSampler(gan=tiny, n_steps=2, self_check=False, random_state=0)
    auto.fit_resample(X, y)
    assert auto.augmenter_.config_.architecture == "warp" and auto.augmenter_.config_.diversity_weight == 1.0

    X4 = X[:, None].astype(np.float32) / 255
    X4_res, _ = GANOverSampler(**FAST_DCGAN, random_state=0).fit_resample(X4, y)
    assert X4_res.shape == (40, 1, 28, 28) and X4_res.dtype == np.float32
    assert X4_res.min() >= X4.min() and X4_res.max() <= X4.max()


def test_flat_rows_with_image_shape_train_a_dcgan(grey_images):
    X, y = grey_images
    flat = X.reshape(30, -1)
    sampler = GANOverSampler(**FAST_DCGAN, image_shape=(1, 28, 28), random_state=0)
    X_res, y_res = sampler.fit_resample(flat, y)
    assert X_res.shape == (40, 784) and X_res.dtype == np.uint8
    assert sampler.augmenter_.images_ and sampler.augmenter_.sample_shape_ == (1, 28, 28)
    # the same images given as an array give the same samples: image_shape only reshapes
    X_img, _ = GANOverSampler(**FAST_DCGAN, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X_res[30:], X_img[30:].reshape(10, -1))


def test_rows_of_channels_last_colour_images_given_as_channels_first_are_warned_about():
    from sklearn.datasets import load_sample_images

    photos, rng = load_sample_images().images, np.random.RandomState(0)
    corners = [(rng.randint(2), rng.randint(400), rng.randint(600)) for _ in range(60)]
    patches = np.stack([photos[k][i : i + 16, j : j + 16] for k, i, j in corners])  # (60, 16, 16, 3)
    y = (np.arange(60) < 12).astype(int)
    with pytest.warns(UserWarning, match=r"look flattened channels-last .* X\.reshape\(-1, 16, 16, 3\)\.transpose"):
        GANOverSampler(**FAST_DCGAN, image_shape=(3, 16, 16), random_state=0).fit_resample(patches.reshape(60, -1), y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*flattened channels-last")
        rows = patches.transpose(0, 3, 1, 2).reshape(60, -1)  # channel by channel, as image_shape says
        GANOverSampler(**FAST_DCGAN, image_shape=(3, 16, 16), random_state=0).fit_resample(rows, y)


def test_small_flattened_images_train_enlarged_and_come_back_at_their_size():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:60], (y[:60] == 0).astype(int)  # 8x8 images as 64 columns, values 0-16; 8 zeros against 52
    sampler = GANOverSampler(gan=GANConfig(batch_size=8), n_steps=2, image_shape=(1, 8, 8), random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.shape == (104, 64) and X_res.dtype == X.dtype and (y_res[60:] == 1).all()
    assert X_res[60:].min() >= 0 and X_res[60:].max() <= 16
    aug = sampler.augmenter_
    assert aug.config_.architecture == "warp" and aug.generator_.exemplars.shape[-2:] == (28, 28)
    # a sample bends a training image enlarged to 28 px and shrunk back: with no bend, the image itself
    xs, _ = aug.sample(4, y=[1] * 4, random_state=0)
    assert xs.shape == (4, 1, 8, 8)


def test_flat_rows_that_are_images_get_the_image_generator_from_auto():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:60], (y[:60] == 0).astype(int)  # 8x8 images as 64 columns: neighbouring pixels go together
    tiny = GANConfig(batch_size=8)
    sampler = GANOverSampler(gan=tiny, n_steps=2, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    assert sampler.image_shape_ == (1, 8, 8) and sampler.augmenter_.config_.architecture == "warp"
    assert X_res.shape == (104, 64) and X_res[60:].min() >= 0 and X_res[60:].max() <= 16
    # the same as saying so
    said = GANOverSampler(gan=tiny, n_steps=2, image_shape=(1, 8, 8), random_state=0).fit_resample(X, y)[0]
    np.testing.assert_array_equal(X_res, said)

    rng = np.random.RandomState(0)
    flat = [
        (GANOverSampler(**FAST, architecture="mlp"), X),  # a flat generator chosen by name
        (GANOverSampler(**FAST), X[:, rng.permutation(64)]),  # the same values, columns shuffled: no grid
        (GANOverSampler(**FAST), rng.poisson(3, (60, 64))),  # counts: a square number of columns is not enough
        (GANOverSampler(**FAST), np.exp(np.cumsum(rng.normal(0, 0.1, (60, 64)), axis=1))),  # a 1-D series
        (GANOverSampler(**FAST), X[:, :63]),  # not a square
    ]
    for sampler, rows in flat:
        sampler.fit_resample(rows, y)
        assert sampler.image_shape_ is None and not sampler.augmenter_.images_, sampler


@pytest.mark.parametrize(
    "X_shape, image_shape, match",
    [
        ((30, 784), (1, 32, 32), "holds 1024 values per row but X has 784 features"),
        ((30, 784), (28, 28), "three positive integers"),
        ((30, 28, 28), (1, 32, 32), "does not match the images' shape"),
    ],
)
def test_bad_image_shape_says_what_to_pass(X_shape, image_shape, match):
    X = np.zeros(X_shape, dtype=np.float32)
    y = np.r_[np.zeros(20, int), np.ones(10, int)]
    with pytest.raises(ValueError, match=match):
        GANOverSampler(**FAST_DCGAN, image_shape=image_shape).fit_resample(X, y)


def test_dcgan_on_flat_rows_without_image_shape_is_refused(imbalanced):
    with pytest.raises(ValueError, match="pass image_shape"):
        GANOverSampler(**FAST, architecture="dcgan").fit_resample(*imbalanced)
    with pytest.raises(ValueError, match="pass image_shape"):  # the architecture given inside the config counts too
        GANOverSampler(gan=GANConfig(architecture="warp"), n_steps=1).fit_resample(*imbalanced)


# -- sklearn conventions ---------------------------------------------------------------------
def test_init_only_stores_and_fit_validates(imbalanced):
    # no error yet: sklearn's clone relies on it
    sampler = GANOverSampler(architecture="wgan", n_steps=-1, image_shape=5)
    assert clone(sampler).get_params()["architecture"] == "wgan"
    with pytest.raises(ValueError, match="architecture must be None or one of 'auto', 'dcgan'"):
        sampler.fit_resample(*imbalanced)
    with pytest.raises(ValueError, match="n_steps must be None or an integer >= 1; got -1"):
        sampler.set_params(architecture=None).fit_resample(*imbalanced)
    with pytest.raises(ValueError, match="image_shape must be None or tuple or list; got 5"):
        sampler.set_params(n_steps=1).fit_resample(*imbalanced)
    with pytest.raises(ValueError, match="loss must be one of"):
        sampler.set_params(image_shape=None, gan__loss="wgan")


def test_grid_search_reaches_a_gan_hyperparameter(imbalanced):
    X, y = imbalanced
    pipe = make_pipeline(GANOverSampler(n_steps=2, random_state=0), LogisticRegression(max_iter=200))
    grid = {"ganoversampler__gan__mlp_hidden": [8, 16], "ganoversampler__gan__batch_size": [16]}
    search = GridSearchCV(
        pipe, grid, cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0), scoring="balanced_accuracy"
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 2 and np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_[0]
    # every candidate trained the GAN it was given: the refitted sampler's generator has that hidden size
    assert best.gan.mlp_hidden == search.best_params_["ganoversampler__gan__mlp_hidden"]
    assert best.augmenter_.generator_.net[0].out_features == best.gan.mlp_hidden
    assert pipe[0].gan is None  # the searched pipeline itself is left as it was


def test_a_fitted_search_saves_with_joblib_and_predicts_the_same(imbalanced, tmp_path):
    X, y = imbalanced
    pipe = make_pipeline(GANOverSampler(**FAST, random_state=0), LogisticRegression(max_iter=200))
    search = GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=2).fit(X, y)
    joblib.dump(search, tmp_path / "search.joblib")  # the discriminator's spectral norm made this fail
    back = joblib.load(tmp_path / "search.joblib")
    assert np.array_equal(back.predict(X), search.predict(X))
    sampler, copy = search.best_estimator_[0], back.best_estimator_[0]
    assert np.array_equal(sampler.augmenter_.sample(5)[0], copy.augmenter_.sample(5)[0])


def test_clone_and_set_params(imbalanced):
    fitted = GANOverSampler(**FAST, random_state=0)
    fitted.fit_resample(*imbalanced)
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params() and fresh.gan is not fitted.gan
    assert not hasattr(fresh, "generator_") and not hasattr(fresh, "synthetic_mask_")
    assert fresh.set_params(n_steps=7, sampling_strategy="minority").n_steps == 7


def test_fit_only_validates_like_imblearn(imbalanced):
    sampler = GANOverSampler(**FAST).fit(*imbalanced)
    assert sampler.sampling_strategy_ == {1: 30, 2: 42}
    assert not hasattr(sampler, "generator_")


# -- pipelines --------------------------------------------------------------------------------
class _SizeRecorder(ClassifierMixin, BaseEstimator):
    """A logistic regression that remembers the class counts it was fitted on and the rows it scored."""

    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.fit_counts_ = dict(zip(self.classes_.tolist(), counts.tolist()))
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        return self

    def predict(self, X):
        self.predicted_rows_ = len(X)
        return self.model_.predict(X)


def test_pipeline_resamples_only_the_training_folds(imbalanced):
    X, y = imbalanced
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    pipe = make_pipeline(GANOverSampler(**FAST, random_state=0), StandardScaler(), _SizeRecorder())
    out = cross_validate(pipe, X, y, cv=cv, return_estimator=True)
    for (train, test), fitted in zip(cv.split(X, y), out["estimator"]):
        largest = max(Counter(y[train].tolist()).values())
        recorder = fitted[-1]
        assert recorder.fit_counts_ == {0: largest, 1: largest, 2: largest}  # the fold was balanced
        assert recorder.predicted_rows_ == len(test)  # the test fold was not
    assert np.isfinite(out["test_score"]).all()

    scores = cross_val_score(
        make_pipeline(GANOverSampler(**FAST, random_state=0), StandardScaler(), LogisticRegression(max_iter=500)),
        X,
        y,
        cv=cv,
        scoring="balanced_accuracy",
    )
    assert scores.shape == (3,) and ((0 <= scores) & (scores <= 1)).all()


# -- the GAN learns -----------------------------------------------------------------------------
def test_synthetic_rows_look_like_their_class():
    centers = np.array([[0, 0, 0, 0], [6, 6, 0, 0], [0, 6, 6, 0]], dtype=float)
    X, y = make_blobs([120, 40, 12], centers=centers, cluster_std=0.7, random_state=0)
    # aux_weight=1 (the AC-GAN loss) for class fidelity within a short fit; the default for
    # features (0) trades some fidelity for variety, which is what helped classifiers on digits
    sampler = GANOverSampler(
        gan=GANConfig(mlp_hidden=32, lr_g=2e-3, lr_d=2e-3, aux_weight=1.0), n_steps=150, random_state=0
    )
    X_res, y_res = sampler.fit_resample(X, y)
    syn, y_syn = X_res[sampler.synthetic_mask_], y_res[sampler.synthetic_mask_]
    nearest = ((syn[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)
    assert (nearest == y_syn).mean() > 0.9  # class-faithful
    for k in (1, 2):  # and not collapsed to one point (the real spread is 0.7; this short fit gives ~0.1-0.2)
        assert syn[y_syn == k].std(0)[:3].mean() > 0.05


# -- imbalanced-learn stays optional ----------------------------------------------------------
def test_without_imblearn_the_class_imports_and_says_what_to_install(monkeypatch):
    import ganaug

    for name in [m for m in sys.modules if m == "imblearn" or m.startswith("imblearn.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    monkeypatch.delitem(sys.modules, "ganaug.oversampling")
    monkeypatch.setattr(ganaug, "oversampling", ganaug.oversampling, raising=False)  # restored afterwards
    fresh = importlib.import_module("ganaug.oversampling")
    assert not fresh.HAS_IMBLEARN

    sampler = clone(fresh.GANOverSampler(n_steps=3))
    assert sampler.get_params()["n_steps"] == 3
    with pytest.raises(ImportError, match="pip install imbalanced-learn"):
        sampler.fit_resample([[0.0], [1.0]], [0, 1])


def test_the_gans_warnings_and_classes_name_the_users_labels(grey_images):
    X, y = grey_images
    labels = np.where(y == 0, "stay", "churn")
    keep = np.r_[np.arange(20), 20, 21, 22, 23]  # four churn images: under ten
    with pytest.warns(UserWarning, match=r"classes \{'churn': 4\} have fewer than 10 examples"):
        sampler = GANOverSampler(**FAST_DCGAN, random_state=0)
        _, y_res = sampler.fit_resample(X[keep], labels[keep])
    assert sampler.augmenter_.classes_.tolist() == ["churn", "stay"] and (y_res[24:] == "churn").all()
