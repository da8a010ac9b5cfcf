"""The evaluation report: the issue 6 targets, Markdown tables and JSON of a ``Report``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from apps.recommend.engine.candidates import ITEM_TYPES
from apps.recommend.offline.evaluation import METHODS, METRICS, Report

LABELS = {
    "model": "model (stage 2, served)",
    "stage1": "stage 1 (hand weights)",
    "random": "random",
    "newest": "newest-first",
    "nearest": "nearest-first",
    "popular": "popular",
}


def _fmt(value: tuple[float, float], digits: int = 3) -> str:
    mean, half = value
    if math.isnan(mean):
        return "-"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def targets(report: Report) -> list[tuple[str, bool, str]]:
    """The acceptance targets of issue 6 on the mean over seeds: (name, met, detail)."""
    newest, nearest = report.ratio("model", "newest"), report.ratio("model", "nearest")
    cold_model = report.slice_summary("cold", "model")
    cold_nearest = report.slice_summary("cold", "nearest")
    expired = max(s.metrics["model"]["expired"] for s in report.seeds)
    return [
        ("nDCG@10 ≥ 1.5 x newest-first", newest[0] >= 1.5, f"ratio {_fmt(newest, 2)}"),
        ("nDCG@10 ≥ 1.1 x nearest-first", nearest[0] >= 1.1, f"ratio {_fmt(nearest, 2)}"),
        (
            "cold-start residents no worse than nearest-first",
            cold_model[0] >= cold_nearest[0],
            f"{_fmt(cold_model)} vs {_fmt(cold_nearest)}",
        ),
        ("expired-item rate 0", expired == 0, f"max over seeds {expired:.4f}"),
    ]


def render_markdown(report: Report) -> str:
    """The evaluation tables (metrics, slices, targets, validation) as Markdown."""
    cfg = report.config
    n = len(report.seeds)
    lines = [
        f"Simulated city: {cfg.residents} residents, {cfg.days} logged days "
        f"(last {cfg.test_days} for test), {n} seeds; mean ± 95 % CI over seeds; "
        f"{sum(s.requests for s in report.seeds) // max(n, 1)} test requests per seed, "
        "all live candidates ranked. Hidden utility weights: interest "
        f"{cfg.interest_weight}, distance {cfg.distance_weight}, noise sd {cfg.noise_sd}; "
        f"diversity cap {report.rank_config.max_per_category} per "
        f"{report.rank_config.window}.",
        "",
        "| method | nDCG@10 | recall@20 | MRR | coverage | diversity | expired |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        cells = [_fmt(report.summary(method, metric)) for metric in METRICS]
        lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + " |")
    names = ["cold", "warm", "heavy", *ITEM_TYPES]
    names += sorted({k for s in report.seeds for k in s.slices if k.startswith("district:")})
    lines += [
        "",
        "nDCG@10 by slice (requests per seed in brackets):",
        "",
        "| slice | " + " | ".join(LABELS[m].split(" (")[0] for m in METHODS) + " |",
        "|---" * (len(METHODS) + 1) + "|",
    ]
    for name in names:
        size = round(np.mean([s.slice_sizes.get(name, 0) for s in report.seeds]))
        cells = [_fmt(report.slice_summary(name, m)) for m in METHODS]
        lines.append(f"| {name.removeprefix('district:')} ({size}) | " + " | ".join(cells) + " |")
    lines += ["", "| target | met | detail |", "|---|---|---|"]
    for name, met, detail in targets(report):
        lines.append(f"| {name} | {'yes' if met else '**no**'} | {detail} |")
    lines += [
        "",
        "Training validation (held-out last days of the log, per seed):",
        "",
        "| seed | served | stage 2 AUC | stage 2 nDCG@10 | stage 1 AUC | stage 1 nDCG@10 "
        "| seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in report.seeds:
        if not s.validation:
            lines.append(f"| {s.seed} | {s.served} | - | - | - | - | {s.seconds:.0f} |")
            continue
        model, stage1 = s.validation["model"], s.validation["stage1"]
        lines.append(
            f"| {s.seed} | {s.served} | {model['auc']:.3f} | {model['ndcg@10']:.3f} "
            f"| {stage1['auc']:.3f} | {stage1['ndcg@10']:.3f} | {s.seconds:.0f} |"
        )
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    """Everything measured, per seed and aggregated (NaN as null)."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    summary = {m: {k: report.summary(m, k) for k in METRICS} for m in METHODS}
    return clean(
        {
            "config": vars(report.config),
            "rank_config": vars(report.rank_config),
            "summary": summary,
            "targets": [{"name": n, "met": ok, "detail": d} for n, ok, d in targets(report)],
            "seeds": [vars(s) for s in report.seeds],
        }
    )
