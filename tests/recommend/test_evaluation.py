"""Offline evaluation: metric definitions, the simulator's truth, and a tiny end-to-end run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.recommend.engine import ranking
from apps.recommend.offline import evaluation, evaluation_report, simulation
from apps.recommend.offline import fitting as training
from apps.recommend.offline.metrics import (
    grouped_ndcg,
    intra_list_diversity,
    mean_ci,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)


def test_ndcg_recall_mrr_and_diversity_by_hand():
    # DCG of gains (3, 0, 2) = 7/1 + 0 + 3/2; ideal (3, 2, 0) = 7 + 3/log2(3).
    expected = (7 + 3 / 2) / (7 + 3 / math.log2(3))
    assert ndcg_at_k(np.array([3, 0, 2]), np.array([0, 2, 3]), 10) == pytest.approx(expected)
    assert math.isnan(ndcg_at_k(np.array([0, 0]), np.array([0, 0]), 10))
    assert recall_at_k(np.array([True, False, True]), 4, 2) == 0.25
    assert reciprocal_rank(np.array([False, False, True])) == pytest.approx(1 / 3)
    assert reciprocal_rank(np.array([False])) == 0
    assert intra_list_diversity(np.array([1, 1, 2, 3]), 10) == pytest.approx(1 - 2 / 12)


def test_grouped_ndcg_breaks_ties_against_the_positives():
    gains = np.array([0, 1, 0, 2])
    groups = np.array([0, 0, 1, 1])
    assert grouped_ndcg(np.array([0.0, 1.0, 0.0, 5.0]), gains, groups) == 1.0
    constant = grouped_ndcg(np.zeros(4), gains, groups)
    assert constant == pytest.approx(1 / math.log2(3))


def test_mean_ci_uses_student_t():
    mean, half = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean == 3.0
    assert half == pytest.approx(2.776445 * math.sqrt(2.5) / math.sqrt(5), rel=1e-5)


def test_simulated_truth_is_zero_once_an_item_is_over(small_city):
    city, _ = small_city
    c = city.catalog
    events = np.flatnonzero(c.item_type == 2)
    row = events[0]
    during = (c.start_s[row] + c.end_s[row]) / 2
    after = c.end_s[row] + 1
    assert simulation.time_relevance(c, np.array([row]), during)[0] == 1.0
    assert simulation.time_relevance(c, np.array([row]), after)[0] == 0.0
    assert not c.live(after)[row]


def test_simulated_residents_prefer_near_items_all_else_equal(small_city):
    city, _ = small_city
    c = city.catalog
    rows = np.flatnonzero(~c.city_wide)[:400]
    t = float(c.published_s[rows].max())
    home = city.profiles[0].places[0]
    # The utility without its unpredictable part falls with distance on average.
    systematic = simulation.utility(city, 0, rows, t) - city.noise[0, rows]
    by_distance = systematic[np.argsort(np.hypot(c.lon[rows] - home.lon, c.lat[rows] - home.lat))]
    assert by_distance[:50].mean() > by_distance[-50:].mean()


def test_the_simulator_runs_the_production_code():
    assert evaluation.rank is ranking.rank
    assert evaluation.fit is training.fit
    assert evaluation.build_context.__module__ == "apps.recommend.engine.context"
    assert simulation.Candidates.__module__ == "apps.recommend.engine.candidates"


@pytest.mark.slow
def test_evaluate_recommender_tiny_run(tmp_path, capsys):
    out = tmp_path / "eval.json"
    call_command("evaluate_recommender", "--tiny", "--json", str(out))
    table = capsys.readouterr().out
    header = "| method | nDCG@10 | recall@20 | MRR | coverage | diversity | expired |"
    lines = table.splitlines()
    start = lines.index(header)
    rows = lines[start + 2 : start + 2 + len(evaluation.METHODS)]
    assert [r.split(" | ")[0].lstrip("| ") for r in rows] == [
        evaluation_report.LABELS[m] for m in evaluation.METHODS
    ]
    assert all(r.count("|") == 8 for r in rows)
    assert "| cold (" in table and "| events (" in table
    data = json.loads(out.read_text())
    assert len(data["seeds"]) == 2
    for seed in data["seeds"]:
        assert seed["metrics"]["model"]["expired"] == 0
        assert seed["metrics"]["stage1"]["expired"] == 0
        assert seed["stale_per_request"] > 0  # stale items were offered, and filtered
        assert 0 < seed["metrics"]["model"]["ndcg@10"] <= 1
        assert set(seed["slices"]) >= {"cold", "warm", "news", "works", "events"}
    assert {t["name"] for t in data["targets"]} >= {"expired-item rate 0"}


def test_evaluate_recommender_rejects_bad_sizes():
    with pytest.raises(CommandError):
        call_command("evaluate_recommender", "--seeds", "0")
