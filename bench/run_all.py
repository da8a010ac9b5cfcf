"""Run every benchmark in one go and assemble the figures with the DESIGN §8 checklist.

    .venv/bin/python bench/run_all.py [--quick] [--only load,celery_rss] [--skip fcm_throughput]

Plug-in contract (how a benchmark joins, with no change here beyond one line in ``BENCHMARKS``
or none at all):

- **in process**: the module defines ``run(options=None)`` (or ``run(**options)``) returning
  ``{"name", "title", "markdown", "figures", "targets"}`` (``targets``: architecture.md §8 lines it
  measured, as ``{"id", "target", "status": "met"|"missed"|"pending", "detail"}``), and optionally
  ``quick_options()`` for ``--quick``. Any ``bench/*.py`` module that defines ``TITLE`` and
  ``run`` is found even if it is not listed;
- **command line**: the module accepts ``--json PATH`` (``bench/fcm_throughput.py`` does);
  its JSON is kept as the figures and shown as is.

Listed modules that are absent on this build (they land with other branches) are skipped with
a message saying so, and the §8 lines they would measure as not measured. ``{database}`` in a
command line's arguments is replaced by the bench database's URL. Writes
``bench/results/all-<time>.md`` and ``.json`` and prints the Markdown.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/run_all.py
    sys.path.insert(0, str(ROOT))

from bench import machine  # noqa: E402

#: The bench city's database (``DATABASE_URL`` for command-line benchmarks unless set).
DATABASE_URL = "postgis:///quartier_bench"


Targets = list[dict[str, str]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    #: Arguments of a command-line benchmark (run with ``--json``); ``None``: in process.
    cli: list[str] | None = None
    #: Who brings it, when it is absent.
    lands_with: str = ""
    quick_cli: list[str] = field(default_factory=list)
    #: Reads the architecture.md §8 lines out of a command-line benchmark's JSON.
    targets: Callable[[Any], Targets] | None = None


def _fcm_targets(figures: dict[str, Any]) -> Targets:
    gateway = figures["gateway"][0]
    rate, per_cpu = gateway["median_msg_per_s"], gateway["median_msg_per_cpu_s"]
    return [
        {
            "id": "fanout",
            "target": "fan-out: ≥ 1,000 messages/s per worker process (FCM gateway, fake FCM)",
            "status": "met" if rate >= 1000 else "missed",
            "detail": f"{rate:,} msg/s wall, {per_cpu:,} msg per CPU-second",
        }
    ]


def _own_targets(figures: dict[str, Any]) -> Targets:
    """Benchmarks that judge their own §8 lines (audience, fan-out) put them in their JSON."""
    targets: Targets = figures["targets"]
    return targets


def _feed_targets(figures: dict[str, Any]) -> Targets:
    """Issue 13's lines: the feed against the plain list, and the uncached content lists."""
    summary = figures["summary"]
    personal, anonymous = summary["feed personal"], summary["feed anonymous"]
    counts = figures["prepared"]["queries"]
    # Constant: the counts do not grow with the page size — beyond one item query per content
    # type present on the page (a page of 10 may hold one or two of the three types).
    constant = all(
        max(c[page] for c in sizes.values()) - min(c[page] for c in sizes.values()) <= 2
        for sizes in counts.values()
        for page in ("first", "next")
    )
    feed_met = (
        anonymous["ratio_to_list"] >= 3
        and personal["ratio_to_list"] >= 1.5
        and (anonymous.get("cpu_ratio_to_list") or 0) >= 3
        and (personal.get("cpu_ratio_to_list") or 0) >= 1.5
        and constant
    )
    targets: Targets = [
        {
            "id": "feed",
            "target": "feed: anonymous ≥ 3 x and personal ≥ 1.5 x the plain list's throughput "
            "(same run); constant SQL queries whatever the page size",
            "status": "met" if feed_met else "missed",
            "detail": f"anonymous {anonymous['ratio_to_list']} x "
            f"({anonymous.get('cpu_ratio_to_list')} x by CPU ms), "
            f"personal {personal['ratio_to_list']} x "
            f"({personal.get('cpu_ratio_to_list')} x by CPU ms); p95 at full load: anonymous "
            f"{anonymous['p95_ms']} ms, personal {personal['p95_ms']} ms (the half-load p95 is "
            f"the load test's); queries {'constant' if constant else 'NOT constant'} ({counts})",
        }
    ]
    lists = {name: s for name, s in summary.items() if name.startswith("lists ")}
    if lists:
        worst = min(
            min(s["ratio_to_list"], s.get("cpu_ratio_to_list") or 0) for s in lists.values()
        )
        targets.append(
            {
                "id": "lists",
                "target": "content lists (first page, near, bbox, filters) ≥ 5 x the plain list, "
                "uncached",
                "status": "met" if worst >= 5 else "missed",
                "detail": "; ".join(
                    f"{name}: {s['ratio_to_list']} x ({s.get('cpu_ratio_to_list')} x by CPU ms, "
                    f"fragment hits {s.get('fragment_hit_rate')})"
                    for name, s in lists.items()
                ),
            }
        )
    return targets


def _reliability_targets(figures: dict[str, Any]) -> Targets:
    return [
        {
            "id": "reliability",
            "target": "reliability: kill -9 mid-fan-out, then FCM 503/429 storms",
            "status": "met" if figures["ok"] else "missed",
            "detail": "every check of bench/notify_reliability.py"
            + (" passed" if figures["ok"] else " failed"),
        }
    ]


BENCHMARKS = (
    Benchmark("load", "bench.load_test"),
    Benchmark("celery_rss", "bench.celery_rss"),
    Benchmark("interop_import", "bench.interop_import"),
    Benchmark(
        "fcm_throughput",
        "bench.fcm_throughput",
        cli=["--messages", "20000", "--repeat", "3"],
        quick_cli=["--messages", "2000", "--repeat", "1", "--raw-messages", "2000"],
        lands_with="the FCM gateway branch (feat/fcm)",
        targets=_fcm_targets,
    ),
    Benchmark(
        "audience",
        "bench.notify_audience",
        cli=[],
        quick_cli=["--items", "3", "--repeat", "3"],
        lands_with="the notifications branch (feat/notify)",
        targets=_own_targets,
    ),
    Benchmark(
        "reliability",
        "bench.notify_reliability",
        cli=[],
        quick_cli=[
            "--devices",
            "2000",
            "--storm-seconds",
            "6",
            "--retry-after",
            "1",
            "--stuck-sending",
            "5",
        ],
        lands_with="the notifications branch (feat/notify)",
        targets=_reliability_targets,
    ),
    Benchmark(
        "fanout",
        "bench.notify_fanout",
        cli=[],
        quick_cli=[
            "--devices",
            "2000",
            "--repeat",
            "1",
            "--alert-devices",
            "4000",
            "--alert-repeat",
            "1",
        ],
        lands_with="the notifications branch",
        targets=_own_targets,
    ),
    Benchmark(
        "feed",
        "bench.feed_bench",
        cli=["--database", "{database}"],
        quick_cli=["--database", "{database}", "--duration", "5", "--rounds", "1", "--warmup", "3"],
        lands_with="the feed branch (GET /api/v1/feed/)",
        targets=_feed_targets,
    ),
    Benchmark("redis_down", "bench.redis_down"),
)

#: architecture.md §8, line by line: (id, target, where it is measured).
DESIGN_TARGETS = (
    ("feed", "feed: throughput ≥ 0.5 x plain list of the same 20 items; p95 ≤ 60 ms; "
     "constant SQL queries whatever the page size", "load (feed scenarios), feed"),
    ("lists", "list endpoints: ≤ 4 SQL queries per request whatever the page size",
     "tests/core/test_api_queries.py (pinned with django_assert_num_queries)"),
    ("audience", "audience of a roadwork: ≤ 100 ms, one SQL query, ≥ 100 x faster than Python",
     "audience"),
    ("fanout", "fan-out: ≥ 1,000 messages/s per worker process; 100,000-device alert handed "
     "over in ≤ 60 s with two workers", "fcm_throughput, fanout"),
    ("recommender", "recommender: nDCG@10 ≥ 1.5 x newest-first and ≥ 1.1 x nearest-first; "
     "cold start no worse than nearest-first", "manage.py evaluate_recommender"),
    ("reliability", "reliability: worker killed mid-fan-out loses nothing; FCM 503/429 storms "
     "all delivered after recovery", "reliability"),
    ("reliability-redis", "Redis stopped or hung: public reads served, health `degraded`",
     "redis_down, tests/faults/"),
    ("bad_input", "bad input: schemathesis over the whole schema, 0 server errors",
     "tests/core/test_api_schemathesis.py"),
    ("imports", "imports: 1,000 WZDx road events imported in seconds; re-import changes "
     "nothing and sends no push", "interop_import"),
)  # fmt: skip


def discovered() -> list[Benchmark]:
    """``bench/*.py`` modules with ``TITLE`` and ``run`` that ``BENCHMARKS`` does not list."""
    listed = {b.module for b in BENCHMARKS}
    found = []
    for info in pkgutil.iter_modules([str(ROOT / "bench")]):
        module_name = f"bench.{info.name}"
        if module_name in listed or info.name in ("run_all", "machine") or info.ispkg:
            continue
        try:
            module = importlib.import_module(module_name)
        except Exception:  # a broken module is reported by whoever lists it
            continue
        if hasattr(module, "TITLE") and callable(getattr(module, "run", None)):
            found.append(Benchmark(info.name, module_name))
    return found


def _available(benchmark: Benchmark) -> bool:
    return importlib.util.find_spec(benchmark.module) is not None


def _call_run(run: Callable[..., Any], options: dict[str, Any] | None) -> Any:
    """``run(options)`` or, for a ``run(**options)`` benchmark, ``run(**options)``."""
    parameters = inspect.signature(run).parameters.values()
    keywords_only = all(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in parameters)
    if keywords_only and any(p.kind is p.VAR_KEYWORD for p in parameters):
        return run(**(options or {}))
    return run(options)


def run_one(benchmark: Benchmark, *, quick: bool) -> dict[str, Any]:
    if not _available(benchmark):
        path = benchmark.module.replace(".", "/") + ".py"
        return {
            "name": benchmark.name,
            "skipped": f"not available: {path} is not on this build (lands with "
            f"{benchmark.lands_with or 'another branch'}); skipped",
        }
    try:
        if benchmark.cli is not None:
            return _run_cli(benchmark, quick=quick)
        module = importlib.import_module(benchmark.module)
        if not callable(getattr(module, "run", None)):  # a command line only
            return _run_cli(benchmark, quick=quick)
        options = module.quick_options() if quick and hasattr(module, "quick_options") else None
        return _call_run(module.run, options)
    except BaseException as exc:  # one failing benchmark must not hide the others' figures
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {
            "name": benchmark.name,
            "failed": f"{exc.__class__.__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }


def _run_cli(benchmark: Benchmark, *, quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        database = os.environ.get("DATABASE_URL", DATABASE_URL)
        arguments = benchmark.quick_cli if quick else (benchmark.cli or [])
        arguments = [a.replace("{database}", database) for a in arguments]
        command = [sys.executable, "-m", benchmark.module, *arguments, "--json", str(out)]
        env = {**os.environ, "DATABASE_URL": database}
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode or not out.exists():
            raise RuntimeError(f"exit {done.returncode}: {done.stderr[-1500:]}")
        figures = json.loads(out.read_text())
    module = importlib.import_module(benchmark.module)
    title = (module.__doc__ or benchmark.name).strip().splitlines()[0]
    markdown = f"```\n{done.stdout.strip()}\n```"
    targets: Targets = figures.get("targets", []) if isinstance(figures, dict) else []
    if benchmark.targets is not None:
        try:
            targets = benchmark.targets(figures)
        except (KeyError, TypeError, IndexError) as exc:  # its JSON changed: say so, keep going
            targets = [{"id": "", "target": benchmark.name, "status": "see figures",
                        "detail": f"unreadable figures ({exc!r})"}]  # fmt: skip
    return {"name": benchmark.name, "title": title, "markdown": markdown, "figures": figures,
            "targets": targets}  # fmt: skip


def checklist(results: list[dict[str, Any]]) -> str:
    measured: dict[str, list[dict[str, str]]] = {}
    for result in results:
        for target in result.get("targets", []):
            measured.setdefault(target.get("id", ""), []).append(target)
    lines = ["| DESIGN §8 target | status | measured by / detail |", "|---|---|---|"]
    for key, text, where in DESIGN_TARGETS:
        if key in measured:
            for entry in measured[key]:
                lines.append(f"| {entry['target']} | {entry['status']} | {entry['detail']} |")
        else:
            lines.append(f"| {text} | see {where} | not measured by this run |")
    return "\n".join(lines)


def assemble(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    parts = [f"# Benchmarks, {datetime.now():%Y-%m-%d %H:%M}", "", machine.markdown(info), ""]
    for result in results:
        if "skipped" in result or "failed" in result:
            parts += [f"## {result['name']}", "", result.get("skipped") or result["failed"], ""]
            continue
        parts += [f"## {result['title']}", "", result["markdown"], ""]
    parts += ["## DESIGN §8 checklist", "", checklist(results)]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke of the lot)")
    parser.add_argument("--only", help="comma list of benchmark names")
    parser.add_argument("--skip", default="", help="comma list of benchmark names")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    chosen = [*BENCHMARKS, *discovered()]
    if args.only:
        chosen = [b for b in chosen if b.name in args.only.split(",")]
    chosen = [b for b in chosen if b.name not in args.skip.split(",")]
    results = []
    for benchmark in chosen:
        print(f"--- {benchmark.name}", flush=True)
        results.append(run_one(benchmark, quick=args.quick))
    info = machine.facts(os.environ.get("DATABASE_URL", DATABASE_URL), "redis://127.0.0.1:6379/9")
    markdown = assemble(results, info)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (args.out / f"all-{stamp}.md").write_text(markdown + "\n")
    (args.out / f"all-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    print(markdown)
    print(f"\nWritten: {args.out / f'all-{stamp}.md'}")
    return 1 if any("failed" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
