"""``bench/run_all.py``: how benchmarks plug in, absent ones, and the DESIGN §8 checklist."""

from __future__ import annotations

import textwrap

import pytest

from bench import run_all
from bench.run_all import Benchmark, assemble, checklist, run_one

FAKE_CLI = '''
"""A fake command-line benchmark: figures as JSON."""
import argparse, json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--messages", type=int, default=1)
    args = parser.parse_args()
    print(f"sent {args.messages}")
    figures = {"messages": args.messages, "targets": [
        {"id": "fanout", "target": "fan-out ≥ 1,000 msg/s", "status": "met", "detail": "1,200/s"}]}
    open(args.json, "w").write(json.dumps(figures))


if __name__ == "__main__":
    main()
'''

FAKE_IN_PROCESS = '''
"""A fake in-process benchmark."""
TITLE = "Fake"
def quick_options():
    return {"quick": True}
def run(options=None):
    return {"name": "fake", "title": TITLE, "markdown": f"options {options}", "figures": {},
            "targets": [{"id": "audience", "target": "audience ≤ 100 ms",
                         "status": "missed", "detail": "140 ms"}]}
'''


@pytest.fixture
def fake_modules(tmp_path, monkeypatch):
    (tmp_path / "fake_cli_bench.py").write_text(textwrap.dedent(FAKE_CLI))
    (tmp_path / "fake_bench.py").write_text(textwrap.dedent(FAKE_IN_PROCESS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))


def test_an_absent_benchmark_is_skipped_with_a_message():
    result = run_one(Benchmark("audience", "bench.no_such_module", lands_with="X"), quick=False)
    assert result == {
        "name": "audience",
        "skipped": "not available: bench/no_such_module.py is not on this build (lands with X); "
        "skipped",
    }


def test_every_listed_benchmark_is_present_or_skipped_never_crashes():
    """Whichever branches are merged, the listed names resolve or are skipped cleanly."""
    assert {b.module for b in run_all.BENCHMARKS} >= {
        "bench.notify_audience", "bench.notify_fanout", "bench.feed_bench"
    }  # fmt: skip
    for benchmark in run_all.BENCHMARKS:
        run_all._available(benchmark)  # no exception for absent modules


KEYWORD_RUN = '''
"""A benchmark with run(**options), as bench/feed_bench.py and bench/notify_audience.py."""
def run(**options):
    return {"name": "kw", "title": "kw", "markdown": repr(sorted(options)), "figures": {},
            "targets": []}
def quick_options():
    return {"items": 1}
'''

COMMAND_LINE_ONLY = '''
"""A module with no run(): run as a command line."""
import argparse, json
if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--database")
    args = parser.parse_args()
    open(args.json, "w").write(json.dumps({"database": args.database}))
'''


def test_run_keyword_options_and_command_line_fallback(tmp_path, monkeypatch):
    (tmp_path / "kw_bench.py").write_text(textwrap.dedent(KEYWORD_RUN))
    (tmp_path / "cli_only_bench.py").write_text(textwrap.dedent(COMMAND_LINE_ONLY))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgis:///somewhere")
    assert run_one(Benchmark("kw", "kw_bench"), quick=False)["markdown"] == "[]"
    assert run_one(Benchmark("kw", "kw_bench"), quick=True)["markdown"] == "['items']"
    result = run_one(Benchmark("c", "cli_only_bench", quick_cli=["--database", "{database}"]),
                     quick=True)  # fmt: skip
    assert result["figures"] == {"database": "postgis:///somewhere"}


def test_a_command_line_benchmark_is_run_with_json(fake_modules):
    benchmark = Benchmark("cli", "fake_cli_bench", cli=["--messages", "5"], quick_cli=[])
    result = run_one(benchmark, quick=False)
    assert result["figures"]["messages"] == 5
    assert "sent 5" in result["markdown"]
    assert result["title"] == "A fake command-line benchmark: figures as JSON."
    assert run_one(benchmark, quick=True)["figures"]["messages"] == 1


def test_an_in_process_benchmark_gets_its_quick_options(fake_modules):
    result = run_one(Benchmark("fake", "fake_bench"), quick=True)
    assert result["markdown"] == "options {'quick': True}"
    assert run_one(Benchmark("fake", "fake_bench"), quick=False)["markdown"] == "options None"


def test_a_failing_benchmark_does_not_stop_the_others(tmp_path, monkeypatch):
    (tmp_path / "broken_bench.py").write_text("def run(options=None):\n    raise OSError('no')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run_one(Benchmark("broken", "broken_bench"), quick=False)
    assert result["failed"] == "OSError: no"


def test_checklist_lists_every_design_target_measured_or_not(fake_modules):
    results = [
        run_one(Benchmark("fake", "fake_bench"), quick=False),
        run_one(Benchmark("cli", "fake_cli_bench", cli=[]), quick=False),
    ]
    table = checklist(results)
    assert "| audience ≤ 100 ms | missed | 140 ms |" in table
    assert "| fan-out ≥ 1,000 msg/s | met | 1,200/s |" in table
    assert table.count("not measured by this run") == len(run_all.DESIGN_TARGETS) - 2
    page = assemble([*results, {"name": "feed", "skipped": "not available"}], _facts())
    assert "## Fake" in page and "## feed" in page and "## DESIGN §8 checklist" in page


def test_benchmarks_defining_title_and_run_are_discovered():
    names = {b.module for b in run_all.discovered()}
    assert not names & {b.module for b in run_all.BENCHMARKS}
    assert "bench.machine" not in names and "bench.run_all" not in names


def _facts():
    return {"nproc": 2, "cpu": "cpu", "ram_gib": 1, "loadavg": [0, 0, 0], "os": "os", "python": "3"}


FAKE_FCM = '''
"""Fake FCM throughput: the JSON shape of bench/fcm_throughput.py."""
import argparse, json

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--rate", type=int)
    args = parser.parse_args()
    gateway = {"median_msg_per_s": args.rate, "median_msg_per_cpu_s": 1500}
    open(args.json, "w").write(json.dumps({"gateway": [gateway]}))
'''


@pytest.mark.parametrize(("rate", "status"), [(1300, "met"), (600, "missed")])
def test_a_command_line_benchmark_json_is_read_into_design_targets(
    tmp_path, monkeypatch, rate, status
):
    (tmp_path / "fake_fcm_bench.py").write_text(textwrap.dedent(FAKE_FCM))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    benchmark = Benchmark(
        "fcm", "fake_fcm_bench", cli=["--rate", str(rate)], targets=run_all._fcm_targets
    )
    (target,) = run_one(benchmark, quick=False)["targets"]
    assert target["id"] == "fanout" and target["status"] == status
    unreadable = Benchmark("a", "fake_fcm_bench", cli=["--rate", "1"], targets=run_all._own_targets)
    assert run_one(unreadable, quick=False)["targets"][0]["status"] == "see figures"


def _feed_figures(personal_ratio, anonymous_ratio=3.2, next_50=5, cpu_ratio=None, lists=None):
    def scenario(ratio):
        return {"ratio_to_list": ratio, "cpu_ratio_to_list": cpu_ratio or ratio, "p95_ms": 40}

    return {
        "summary": {
            "list": {"rps": 30, "p95_ms": 50},
            "feed personal": scenario(personal_ratio),
            "feed anonymous": scenario(anonymous_ratio),
            **{name: scenario(ratio) for name, ratio in (lists or {}).items()},
        },
        "prepared": {
            "queries": {
                "personal": {
                    "page_size 10": {"first": 8, "next": 5},
                    "page_size 50": {"first": 8, "next": next_50},
                }
            }
        },
    }


# Issue 13's targets (architecture.md §8): anonymous ≥ 3 x, personal ≥ 1.5 x the plain list,
# by throughput and by CPU ms per request, in the same run.
@pytest.mark.parametrize(
    ("figures", "status"),
    [
        (_feed_figures(1.6), "met"),
        (_feed_figures(1.4), "missed"),
        (_feed_figures(1.6, anonymous_ratio=2.9), "missed"),
        (_feed_figures(1.6, cpu_ratio=1.2), "missed"),
        (_feed_figures(1.6, next_50=6), "met"),  # a type absent from the smaller page
        (_feed_figures(1.6, next_50=9), "missed"),
    ],
)
def test_feed_figures_are_read_into_the_design_line(figures, status):
    (target,) = run_all._feed_targets(figures)
    assert target["id"] == "feed" and target["status"] == status


@pytest.mark.parametrize(
    ("lists", "status"),
    [
        ({"lists near": 5.5, "lists bbox": 6.0}, "met"),
        ({"lists near": 5.5, "lists bbox": 1.2}, "missed"),
    ],
)
def test_uncached_lists_are_read_into_their_design_line(lists, status):
    feed, target = run_all._feed_targets(_feed_figures(1.6, lists=lists))
    assert feed["id"] == "feed" and target["id"] == "lists" and target["status"] == status
