"""Read locust's CSV statistics and write the load test's Markdown table."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def read_stats(prefix: Path, name: str) -> dict[str, Any]:
    """The row of ``name`` in ``<prefix>_stats.csv`` (requests, failures, rate, percentiles)."""
    path = Path(f"{prefix}_stats.csv")
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == name:
                return {
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": _ms(row["50%"]),
                    "p95": _ms(row["95%"]),
                    "p99": _ms(row["99%"]),
                    "avg_bytes": float(row["Average Content Size"]),
                }
    return {"requests": 0, "failures": 0, "rps": 0.0, "p50": None, "p95": None, "p99": None}


def read_failures(prefix: Path) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [f"{row['Occurrences']}x {row['Error']}" for row in csv.DictReader(handle)]


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _rate_of(results: list[dict[str, Any]], name: str) -> float | None:
    return next((r["max"]["rps"] for r in results if r["name"] == name and "max" in r), None)


def markdown_table(
    results: list[dict[str, Any]], *, reference: str, fraction: float, floor: str = "ceiling"
) -> str:
    """One row per scenario: throughput, latency at ``fraction`` of it, ratios to the
    reference (the plain list) and to the framework's floor (the constant body)."""
    base = _rate_of(results, reference)
    top_rate = _rate_of(results, floor)
    load = f"paced at ~{fraction:.0%}" if fraction else "at max"
    header = (
        f"| endpoint | max req/s | p50 ms {load} | p95 ms | p99 ms | paced req/s | p95 ms at max "
        "| web CPU ms/req | DB CPU ms/req | cache hits | ratio to plain list "
        "| ratio to constant JSON |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [header]
    for result in results:
        if "skipped" in result:
            lines.append(f"| {result['label']} | {result['skipped']} ||||||||||")
            continue
        top, latency = result["max"], result.get("latency") or result["max"]
        ratio = top["rps"] / base if base else None
        hits = result.get("cache_hit_ratio")
        cells = [
            result["label"],
            _fmt(top["rps"], 1),
            _fmt(latency["p50"]),
            _fmt(latency["p95"]),
            _fmt(latency["p99"]),
            _fmt(latency["rps"], 1),
            _fmt(top["p95"]),
            _fmt(result.get("cpu_ms_per_request"), 1),
            _fmt(result.get("db_cpu_ms_per_request"), 1),
            "-" if hits is None else f"{hits:.0%}",
            "-" if ratio is None else f"{ratio:.2f}",
            "-" if not top_rate else f"{top['rps'] / top_rate:.3f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
