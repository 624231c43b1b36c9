"""Tables through GANOverSampler: categorical columns, DataFrames in and out, bad input."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("imblearn")

from imblearn.pipeline import make_pipeline  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402

from ganaug import GANConfig, GANOverSampler  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:mode collapse suspected:UserWarning", "ignore:classes .* have fewer than:UserWarning"
    ),
    pytest.mark.usefixtures("one_torch_thread"),
]

FAST = dict(gan=GANConfig(mlp_hidden=32, latent_dim=16, batch_size=16), n_steps=5)


@pytest.fixture
def table():
    """90 rows, 60 / 30 per class: float, int, category, object (text) and bool columns; a pandas Series target."""
    rng = np.random.RandomState(0)
    n = 90
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "count": rng.randint(0, 10, n).astype(np.int64),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
            "city": rng.choice(["Oslo", "Lima"], n).astype(object),
            "member": rng.rand(n) > 0.5,
        }
    )
    return frame, pd.Series(np.r_[np.zeros(60, int), np.ones(30, int)], name="label")


def test_dataframe_with_categories_comes_back_with_its_columns_dtypes_and_levels(table):
    X, y = table
    sampler = GANOverSampler(**FAST, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert list(X_res.columns) == list(X.columns)
    assert X_res.dtypes.to_dict() == X.dtypes.to_dict()
    assert X_res["colour"].cat.categories.tolist() == X["colour"].cat.categories.tolist()
    assert sampler.categorical_features_.tolist() == [2, 3, 4]  # "auto": category, object and bool columns
    assert y_res.value_counts().to_dict() == {0: 60, 1: 60} and y_res.name == "label"
    pd.testing.assert_frame_equal(X_res.iloc[:90], X)  # the real rows, unchanged and in order
    synthetic = X_res.iloc[90:]
    assert set(synthetic["city"]) <= {"Oslo", "Lima"} and not synthetic["colour"].isna().any()
    assert (synthetic["count"] == synthetic["count"].round()).all()  # an integer column stays whole numbers
    assert synthetic["count"].between(X["count"].min(), X["count"].max()).all()


def test_categories_follow_their_class():
    """Class 1 is always 'blue' and class 0 never: the GAN's rows of class 1 are 'blue' (it learns categories)."""
    rng = np.random.RandomState(0)
    n0, n1 = 120, 40
    X = pd.DataFrame(
        {
            "x": np.r_[rng.normal(0, 1, n0), rng.normal(2, 1, n1)],
            "colour": pd.Categorical(np.r_[rng.choice(["red", "green"], n0), ["blue"] * n1]),
        }
    )
    y = np.r_[np.zeros(n0, int), np.ones(n1, int)]
    X_res, _ = GANOverSampler(gan=GANConfig(mlp_hidden=64, latent_dim=16), n_steps=400, random_state=0).fit_resample(
        X, y
    )
    synthetic = X_res.iloc[n0 + n1 :]
    assert len(synthetic) == n0 - n1
    assert (synthetic["colour"] == "blue").mean() >= 0.9


def test_numeric_array_with_categorical_indices_stays_numeric_with_seen_levels(table):
    X, y = table
    codes = np.c_[X[["size", "count"]].to_numpy(float), X["colour"].cat.codes.to_numpy()]
    X_res, _ = GANOverSampler(**FAST, categorical_features=[2], random_state=0).fit_resample(codes, y.to_numpy())
    assert X_res.dtype == np.float64 and X_res.shape == (120, 3)
    assert set(np.unique(X_res[90:, 2])) <= {0.0, 1.0, 2.0}
    np.testing.assert_array_equal(X_res[:90], codes)


def test_integer_array_with_categorical_indices_rounds_its_continuous_columns(table):
    """The same GAN on the same values as floats: the integer array's synthetic values are those, rounded."""
    X, y = table
    ints = np.c_[X["count"].to_numpy(), 10 * X["count"].to_numpy() + 3, X["colour"].cat.codes.to_numpy()]
    as_int, _ = GANOverSampler(**FAST, categorical_features=[2], random_state=0).fit_resample(ints, y.to_numpy())
    as_float, _ = GANOverSampler(**FAST, categorical_features=[2], random_state=0).fit_resample(
        ints.astype(np.float64), y.to_numpy()
    )
    assert as_int.dtype == ints.dtype
    np.testing.assert_array_equal(as_int[90:, :2], np.round(as_float[90:, :2]))
    np.testing.assert_array_equal(as_int[90:, 2], as_float[90:, 2])


def test_float_columns_of_whole_numbers_come_back_whole(table):
    """Counts or pixel values stored as floats get whole synthetic values; a fractional column is left as it is."""
    X, y = table
    values = np.c_[X["count"].to_numpy(float), X["size"].to_numpy(), X["count"].to_numpy() + 0.5]
    out, _ = GANOverSampler(**FAST, random_state=0).fit_resample(values, y.to_numpy())
    synthetic = out[90:]
    assert out.dtype == np.float64 and np.array_equal(synthetic[:, 0], np.round(synthetic[:, 0]))
    assert not np.array_equal(synthetic[:, 1], np.round(synthetic[:, 1]))
    assert not np.array_equal(synthetic[:, 2] - 0.5, np.round(synthetic[:, 2] - 0.5))
    frame = pd.DataFrame(values, columns=["count", "size", "half"])
    out_frame, _ = GANOverSampler(**FAST, random_state=0).fit_resample(frame, y)
    assert list(out_frame.dtypes) == [np.float64] * 3
    np.testing.assert_array_equal(out_frame.to_numpy(), out)


@pytest.mark.parametrize("spec", [["colour", "city"], [2, 3], [-3, -2], [False, False, True, True, False]])
def test_categorical_features_by_name_index_or_mask(table, spec):
    X, y = table
    X = X.drop(columns="member").assign(member=X["member"].astype(int))
    sampler = GANOverSampler(**FAST, categorical_features=spec, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    assert sampler.categorical_features_.tolist() == [2, 3]
    assert X_res.dtypes.to_dict() == X.dtypes.to_dict()


class _DtypeCheck(BaseEstimator, TransformerMixin):
    """A pipeline step that fails unless it is fitted on the columns and dtypes of ``expected``."""

    def __init__(self, expected=None):
        self.expected = expected

    def fit(self, X, y=None):
        if list(X.columns) != list(self.expected) or X.dtypes.astype(str).tolist() != list(self.expected.values()):
            raise AssertionError(f"the step after the sampler saw {X.dtypes.to_dict()}")
        self.n_rows_ = len(X)
        return self

    def transform(self, X):
        return X


def test_dataframe_pipeline_under_cross_val_score(table):
    """GANOverSampler -> a step that checks dtypes -> a classifier that reads categories from their dtype."""
    X, y = table
    X = X.drop(columns=["city", "member"])
    expected = dict(X.dtypes.astype(str))
    model = make_pipeline(
        GANOverSampler(**FAST, random_state=0),
        _DtypeCheck(expected),
        HistGradientBoostingClassifier(max_iter=10, categorical_features="from_dtype"),
    )
    scores = cross_val_score(model, X, y, cv=StratifiedKFold(3), scoring="balanced_accuracy", error_score="raise")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    fitted = model.fit(X, y)
    assert fitted[1].n_rows_ == 120  # the step after the sampler saw the balanced table


# -- bad input: a clear error naming the column, or documented behaviour ----------------------
def test_text_column_not_declared_categorical_is_refused_by_name(table):
    X, y = table
    with pytest.raises(TypeError, match="column 'city' holds non-numeric values.*declare it categorical"):
        GANOverSampler(**FAST, categorical_features=["colour"]).fit_resample(X, y)
    with pytest.raises(TypeError, match="column 1 holds non-numeric"):
        GANOverSampler(**FAST).fit_resample(np.array([[0.5, "a"], [1.0, "b"], [2.0, "a"]], dtype=object), [0, 0, 1])


@pytest.mark.parametrize("column", ["size", "colour", "city"])
def test_missing_values_are_refused_by_column(table, column):
    X, y = table
    X = X.copy()
    X[column] = X[column].astype(object) if column != "size" else X[column]
    X.loc[5, column] = np.nan if column == "size" else None
    with pytest.raises(ValueError, match=f"column '{column}' has 1 missing value.*impute"):
        GANOverSampler(**FAST).fit_resample(X, y)


def test_missing_values_in_a_numeric_array_are_refused(table):
    X = np.random.RandomState(0).normal(size=(30, 3))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GANOverSampler(**FAST).fit_resample(X, np.r_[np.zeros(20, int), np.ones(10, int)])


@pytest.mark.parametrize(
    "spec, error, match",
    [
        (["nope"], ValueError, "names a column X does not have: 'nope'; the columns are"),
        ([7], ValueError, "index 7 is out of range for 5 columns"),
        ([True, False], ValueError, "one entry per column \\(5\\)"),
        ("some", ValueError, "categorical_features must be 'auto', None"),
        (3.5, ValueError, "categorical_features"),
    ],
)
def test_bad_categorical_features_say_what_is_wrong(table, spec, error, match):
    X, y = table
    with pytest.raises(error, match=match):
        GANOverSampler(**FAST, categorical_features=spec).fit_resample(X, y)


def test_sparse_or_image_input_with_categories_is_refused(table):
    X, y = table
    numeric = sparse.csr_matrix(X[["size", "count"]].to_numpy(float))
    with pytest.raises(TypeError, match="dense X"):
        GANOverSampler(**FAST, categorical_features=[1]).fit_resample(numeric, y)
    with pytest.raises(ValueError, match="image_shape and categorical columns"):
        GANOverSampler(**FAST, image_shape=(1, 1, 5)).fit_resample(X, y)


def test_a_class_with_one_row_gets_rows_and_a_warning():
    """Documented behaviour: the GAN still samples the class (unlike SMOTE) and warns what to expect."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(41, 4))
    y = np.r_[np.zeros(40, int), [1]]
    with pytest.warns(UserWarning, match=r"classes \{1: 1\} have fewer than 10 examples.*close copies"):
        X_res, y_res = GANOverSampler(**FAST, random_state=0).fit_resample(X, y)
    assert (y_res == 1).sum() == 40 and np.isfinite(X_res).all()


def test_a_constant_column_stays_constant(table):
    X, y = table
    X = X.assign(site=7.5)
    X_res, _ = GANOverSampler(**FAST, random_state=0).fit_resample(X, y)
    assert (X_res["site"] == 7.5).all()


def test_a_balanced_table_with_categories_comes_back_as_it_is(table):
    """Nothing to top up (a balanced fold of a cross-validation, say): the rows come back unchanged."""
    X, y = table
    X, y = X.iloc[30:], y.iloc[30:]  # 30 rows of each class
    sampler = GANOverSampler(**FAST, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    pd.testing.assert_frame_equal(X_res.reset_index(drop=True), X.reset_index(drop=True))
    assert y_res.tolist() == y.tolist() and not sampler.synthetic_mask_.any()
