"""AugmentationReport: per-run rows of an augmentation comparison, their
paired summary, and Markdown / JSON / CSV / PNG renderings of both."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .._validation import user_path
from .stats import _norm, _sort_key, paired_summary

ARM_LABELS = {
    "real": "real only",
    "classical": "real + classical",
    "gan": "real + GAN",
    "classical+gan": "real + classical + GAN",
    "class_weighted": "class-weighted loss",
    "logit_adjusted": "logit-adjusted loss",
    "gan+logit_adjusted": "real + GAN, logit-adjusted loss",
    "gan_only": "GAN only (CAS)",
    "self_training": "self-training",
    "gan+unlabelled": "real + GAN (with unlabelled)",
    "classical+gan+unlabelled": "real + classical + GAN (with unlabelled)",
    "gan_only+unlabelled": "GAN only (with unlabelled)",
}
#: the arms the ratio curves of :meth:`AugmentationReport.plot` draw, and how: (arm names, label, style)
CURVES = (
    (("real", "gan"), "no classical", "C0o-"),
    (("classical", "classical+gan"), "with classical", "C1o-"),
    (("gan+unlabelled",), "GAN with unlabelled", "C2s-"),
    (("classical+gan+unlabelled",), "classical + GAN with unlabelled", "C4s-"),
)


def arm_name(row: Mapping) -> str:
    """The arm of a row: its ``arm`` cell, else derived from ``ratio`` and ``classical``.

    ``ratio`` None means synthetic data only (``"gan_only"``); 0 means no
    synthetic data (``"real"`` or ``"classical"``); above 0 ``"gan"`` or
    ``"classical+gan"``.
    """
    if row.get("arm"):
        return str(row["arm"])
    ratio, classical = _norm(row.get("ratio")), bool(row.get("classical", False))
    if ratio is None:
        return "gan_only"
    if ratio == 0:
        return "classical" if classical else "real"
    return "classical+gan" if classical else "gan"


class AugmentationReport:
    """The runs of an augmentation comparison and their paired summary.

    Rows are plain dicts, one per run (arm x seed, and x whatever
    ``group_by`` columns hold). :func:`ganaug.evaluation.compare_augmentation`
    fills them with ``arm``, ``ratio``, ``classical``, ``seed``,
    ``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``per_class_recall``
    (a dict ``{str(class): recall}``), ``n_real`` and ``n_synthetic``. Rows
    built elsewhere need only ``ratio`` (0 = no synthetic data, None =
    synthetic only), ``seed`` and a metric column, plus ``classical`` (bool;
    missing = False) and any grouping columns; the arm is then derived from
    ``ratio`` and ``classical`` (see :func:`arm_name`).

    Parameters
    ----------
    rows : iterable of dict
        One dict per run.
    group_by : sequence of str
        Columns that split the rows into separate experiments (for instance
        ``("n_per_class",)``); each gets its own baselines, table block and
        plot panel.
    metric : str
        The metric the deltas, intervals and p-values are computed on.
    confidence : float
        Coverage of the intervals.
    meta : dict, optional
        Anything worth keeping with the rows (data sizes, settings); saved in
        the JSON.

    Examples
    --------
    Rows a script built itself, grouped by training-set size:

    >>> rows = [
    ...     {"n_per_class": n, "ratio": r, "classical": False, "seed": s,
    ...      "accuracy": 0.6 + 0.001 * n + 0.02 * r + 0.01 * (s % 2), "balanced_accuracy": 0.6}
    ...     for n in (10, 50) for r in (0.0, 1.0) for s in range(4)
    ... ]
    >>> report = AugmentationReport(rows, group_by=("n_per_class",))
    >>> [(line["n_per_class"], line["ratio"], round(line["delta"], 3)) for line in report.summary()]
    [(10, 0.0, 0.0), (10, 1.0, 0.02), (50, 0.0, 0.0), (50, 1.0, 0.02)]
    >>> print(report.to_markdown().splitlines()[2])
    | n_per_class | arm | ratio | classical | seeds | accuracy | Δ vs real (95% CI) | p | balanced_accuracy |
    """

    def __init__(
        self,
        rows: Iterable[Mapping],
        *,
        group_by: Sequence[str] = (),
        metric: str = "accuracy",
        confidence: float = 0.95,
        meta: Mapping | None = None,
    ):
        self.rows = [dict(r) for r in rows]
        if isinstance(group_by, str):
            group_by = (group_by,)
        self.group_by = tuple(group_by)
        self.metric = metric
        self.confidence = confidence
        self.meta = dict(meta or {})
        if not self.rows:
            raise ValueError("an AugmentationReport needs at least one row (one dict per run)")

    # -- numbers ------------------------------------------------------------------------------
    def summary(self, metric: str | None = None) -> list[dict]:
        """One dict per group and arm: means, ``delta`` / ``ci_low`` / ``ci_high`` /
        ``p_value`` versus real-only, and the same with ``_vs_classical``.

        See :func:`ganaug.evaluation.paired_summary` for the columns.
        """
        lines = paired_summary(
            self.rows, metric=metric or self.metric, group_by=self.group_by, confidence=self.confidence
        )
        for line in lines:
            line.setdefault("arm", arm_name(line))
        return lines

    def per_class_recall(self) -> list[dict]:
        """Mean recall of every class per group and arm (rows need ``per_class_recall`` dicts)."""
        acc: dict[tuple, dict] = {}
        for r in self.rows:
            pcr = r.get("per_class_recall")
            if not isinstance(pcr, Mapping):
                continue
            key = tuple(_norm(r.get(k)) for k in self.group_by) + (arm_name(r), _norm(r.get("ratio")))
            d = acc.setdefault(key, {})
            for c, v in pcr.items():
                d.setdefault(str(c), []).append(float(v))
        out = []
        for key in sorted(
            acc, key=lambda k: tuple(_sort_key(v) for v in k[:-2]) + (_arm_rank(k[-2]), _sort_key(k[-1]))
        ):
            line = dict(zip(self.group_by, key[:-2]))
            line.update(arm=key[-2], ratio=key[-1], recall={c: float(np.mean(v)) for c, v in acc[key].items()})
            out.append(line)
        return out

    # -- renderings ---------------------------------------------------------------------------
    def to_markdown(self, metric: str | None = None, digits: int = 3) -> str:
        """A Markdown table of :meth:`summary`, one block of lines per group.

        ``accuracy`` cells read ``mean ± std over seeds``; ``Δ`` cells read
        ``mean paired difference [CI low, CI high]``; ``p`` is the paired t test.
        """
        metric = metric or self.metric
        lines = self.summary(metric)
        has_classical = any("delta_vs_classical" in line for line in lines)
        has_self = any("delta_vs_self_training" in line for line in lines)
        extra = [
            m for m in ("accuracy", "balanced_accuracy", "macro_f1") if m != metric and any(m in line for line in lines)
        ]
        pct = int(round(self.confidence * 100))
        head = list(self.group_by) + ["arm", "ratio", "classical", "seeds", metric, f"Δ vs real ({pct}% CI)", "p"]
        if has_classical:
            head += [f"Δ vs classical ({pct}% CI)", "p"]
        if has_self:
            head += [f"Δ vs self-training ({pct}% CI)", "p"]
        head += extra
        f = f"{{:.{digits}f}}"

        def num(v, signed=False):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return "–"
            return (f"{{:+.{digits}f}}" if signed else f).format(v)

        def delta(line, suffix=""):
            d = line.get("delta" + suffix, math.nan)
            if isinstance(d, float) and math.isnan(d):
                return "–"
            lo, hi = line.get("ci_low" + suffix, math.nan), line.get("ci_high" + suffix, math.nan)
            return f"{num(d, True)} [{num(lo, True)}, {num(hi, True)}]"

        def pval(v):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return "–"
            return "<0.001" if v < 0.001 else f"{v:.3f}"

        out = [
            f"Paired comparison over seeds: Δ is the mean per-seed difference in {metric}, "
            f"CI the Student t interval on those differences, p the paired t test.",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "|".join("---" for _ in head) + "|",
        ]
        for line in lines:
            ratio = line.get("ratio")
            cells = [str(line.get(k)) for k in self.group_by]
            cells += [
                ARM_LABELS.get(line["arm"], line["arm"]),
                "–" if ratio is None else f"{ratio:g}",
                "yes" if line.get("classical") else "no",
            ]
            std = line.get(f"{metric}_std", math.nan)
            cells += [
                str(line["n_seeds"]),
                num(line[metric]) + ("" if isinstance(std, float) and math.isnan(std) else f" ± {num(std)}"),
            ]
            cells += [delta(line), pval(line.get("p_value"))]
            if has_classical:
                cells += [delta(line, "_vs_classical"), pval(line.get("p_value_vs_classical"))]
            if has_self:
                cells += [delta(line, "_vs_self_training"), pval(line.get("p_value_vs_self_training"))]
            cells += [num(line.get(m)) for m in extra]
            out.append("| " + " | ".join(cells) + " |")
        return "\n".join(out) + "\n"

    def to_dict(self) -> dict:
        """Rows, summary and settings as JSON-ready builtins (NaN becomes None)."""
        return _jsonable(
            {
                "format": "ganaug.AugmentationReport",
                "version": 1,
                "metric": self.metric,
                "group_by": list(self.group_by),
                "confidence": self.confidence,
                "meta": self.meta,
                "rows": self.rows,
                "summary": self.summary(),
            }
        )

    def to_json(self, path=None, indent: int = 2) -> str:
        """The report as JSON text (standard JSON: NaN written as null); also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            user_path(path).write_text(text)
        return text

    @classmethod
    def from_json(cls, source) -> AugmentationReport:
        """Rebuild a report from :meth:`to_json` output (a path or the JSON text)."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = user_path(source).read_text()
        data = json.loads(text)
        if data.get("format") != "ganaug.AugmentationReport":
            raise ValueError("this JSON was not written by AugmentationReport.to_json (no 'format' marker)")
        rows = [
            {
                k: (math.nan if v is None and k in ("accuracy", "balanced_accuracy", "macro_f1") else v)
                for k, v in r.items()
            }
            for r in data["rows"]
        ]
        return cls(
            rows,
            group_by=data.get("group_by", ()),
            metric=data.get("metric", "accuracy"),
            confidence=data.get("confidence", 0.95),
            meta=data.get("meta"),
        )

    def to_csv(self, path) -> Path:
        """Write the rows to a CSV file; ``per_class_recall`` becomes ``recall_<class>`` columns."""
        flat = []
        for r in self.rows:
            r = dict(r)
            pcr = r.pop("per_class_recall", None)
            if isinstance(pcr, Mapping):
                r.update({f"recall_{c}": v for c, v in pcr.items()})
            flat.append(r)
        fields: list[str] = []
        for r in flat:
            fields += [k for k in r if k not in fields]
        path = user_path(path)
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            for r in flat:
                writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
        return path

    def plot(self, path, metric: str | None = None) -> Path:
        """Save a PNG: ``metric`` against the synthetic ratio, and per-class recall bars.

        One column of panels per group. Top: the mean over seeds of each arm
        against its ratio, a line without and one with classical
        augmentation; the band around each point is the confidence interval of
        its paired difference from real-only (a band clear of the dotted
        real-only line is a significant change); GAN-only is a dashed line.
        Bottom (when the rows have ``per_class_recall``): mean recall per class
        for each arm. Needs matplotlib (``pip install ganaug[recipes]``).
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "AugmentationReport.plot needs matplotlib: pip install matplotlib (or ganaug[recipes])"
            ) from exc
        metric = metric or self.metric
        lines = self.summary(metric)
        recalls = self.per_class_recall()
        gkeys = []
        for line in lines:
            key = tuple(line.get(k) for k in self.group_by)
            if key not in gkeys:
                gkeys.append(key)
        n_rows = 2 if recalls else 1
        fig = Figure(figsize=(5.0 * len(gkeys), 3.8 * n_rows), layout="constrained")
        axes = fig.subplots(n_rows, len(gkeys), squeeze=False)
        pct = int(round(self.confidence * 100))
        for col, gkey in enumerate(gkeys):
            ax = axes[0][col]
            glines = [ln for ln in lines if tuple(ln.get(k) for k in self.group_by) == gkey]
            base = [ln for ln in glines if ln["arm"] == "real"]
            for arms, label, style in CURVES:
                pts = sorted(
                    (ln for ln in glines if ln.get("ratio") is not None and ln["arm"] in arms),
                    key=lambda ln: ln["ratio"],
                )
                if not pts:
                    continue
                x = np.array([ln["ratio"] for ln in pts], dtype=float)
                y = np.array([ln[metric] for ln in pts], dtype=float)
                lo = np.array([ln[metric] + ln["ci_low"] - ln["delta"] for ln in pts], dtype=float)
                hi = np.array([ln[metric] + ln["ci_high"] - ln["delta"] for ln in pts], dtype=float)
                ax.plot(x, y, style, label=label)
                ok = np.isfinite(lo) & np.isfinite(hi)
                if ok.any():
                    ax.fill_between(x[ok], lo[ok], hi[ok], color=style[:2], alpha=0.2, linewidth=0)
            if base:
                ax.axhline(base[0][metric], color="grey", linestyle=":", label="real only")
            levels = {"gan_only": ("C3", "--"), "gan_only+unlabelled": ("C5", "--"), "self_training": ("C7", "-.")}
            checked = {"gan": "C0", "classical+gan": "C1"}  # a self-check's ratio, one per seed: no x to plot at
            for ln in glines:
                if ln["arm"] in levels:
                    colour, dash = levels[ln["arm"]]
                    ax.axhline(ln[metric], color=colour, linestyle=dash, label=ARM_LABELS[ln["arm"]])
                elif ln["arm"] in checked and ln.get("ratio") is None:
                    label = f"{ARM_LABELS[ln['arm']]} (self-checked ratio)"
                    ax.axhline(ln[metric], color=checked[ln["arm"]], linestyle="-.", label=label)
            title = ", ".join(f"{k}={v}" for k, v in zip(self.group_by, gkey))
            ax.set_title(title or f"{metric} vs synthetic ratio")
            ax.set_xlabel("synthetic samples per real sample")
            ax.set_ylabel(f"{metric} (band: {pct}% CI of Δ vs real)")
            ax.legend(fontsize="small")
            if recalls:
                ax = axes[1][col]
                grec = [r for r in recalls if tuple(r.get(k) for k in self.group_by) == gkey]
                classes = sorted({c for r in grec for c in r["recall"]}, key=_class_order)
                width = 0.8 / max(len(grec), 1)
                for i, r in enumerate(grec):
                    label = ARM_LABELS.get(r["arm"], r["arm"]) + (
                        "" if r["ratio"] in (None, 0) else f" ×{r['ratio']:g}"
                    )
                    ax.bar(
                        np.arange(len(classes)) + i * width - 0.4 + width / 2,
                        [r["recall"].get(c, np.nan) for c in classes],
                        width,
                        label=label,
                    )
                ax.set_xticks(np.arange(len(classes)), classes)
                ax.set_ylim(0, 1.05)
                ax.set_xlabel("class")
                ax.set_ylabel("recall (mean over seeds)")
                ax.legend(fontsize="x-small", ncols=2)
        path = user_path(path)
        fig.savefig(path, dpi=100)
        return path

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        arms = sorted({arm_name(r) for r in self.rows}, key=_arm_rank)
        seeds = sorted({str(r.get("seed")) for r in self.rows})
        return f"AugmentationReport({len(self.rows)} runs, arms {arms}, seeds {seeds}, metric={self.metric!r}, group_by={list(self.group_by)})"


def _arm_rank(arm: str) -> tuple:
    order = list(ARM_LABELS)
    return (order.index(arm) if arm in order else len(order), str(arm))


def _class_order(c: str):
    try:
        return (0, float(c), c)
    except ValueError:
        return (1, 0.0, c)


def _jsonable(v):
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if v is None or isinstance(v, (int, str)):
        return v
    return str(v)


__all__ = ["AugmentationReport", "arm_name"]
