"""Population checks (issue 18): the populations, their targets, ``--populations``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.recommend.offline import population_checks
from apps.recommend.offline.evaluation import Report, SeedResult
from apps.recommend.offline.populations import BY_NAME, HELD_BACK, POPULATIONS, TUNING
from apps.recommend.offline.simulation import SimConfig, generate_city


def test_held_back_populations_are_named_and_kept_out_of_tuning():
    assert {"mixed", "one-category"} == HELD_BACK
    assert not HELD_BACK & set(TUNING)
    assert set(TUNING) | HELD_BACK == set(BY_NAME) == {p.name for p in POPULATIONS}
    assert {"distance", "category", "recency", "no-category", "several-categories"} <= set(TUNING)


def test_population_shapes_reach_the_simulated_residents():
    base = SimConfig(residents=60, days=4, seed=3)
    one = generate_city(BY_NAME["one-category"].config(base))
    assert all(len(p.followed_categories) == 1 for p in one.profiles)
    none = generate_city(BY_NAME["no-category"].config(base))
    assert all(not p.followed_categories for p in none.profiles)
    mixed = generate_city(BY_NAME["mixed"].config(base))
    assert mixed.weights.std(axis=0).min() > 0  # each resident weighs things their own way
    assert np.median(mixed.scale_m) < np.median(generate_city(base).scale_m)
    distance = generate_city(BY_NAME["distance"].config(base))
    assert distance.weights.tolist() == [[0.2, 3.5, 1.0]] * 60


def test_the_default_city_is_unchanged_by_the_new_knobs():
    city = generate_city(SimConfig(residents=40, days=4, seed=5))
    assert city.weights.tolist() == [[0.6, 2.0, 1.5]] * 40
    again = generate_city(BY_NAME["project"].config(SimConfig(residents=40, days=4, seed=5)))
    assert [p.followed_categories for p in again.profiles] == [
        p.followed_categories for p in city.profiles
    ]
    np.testing.assert_array_equal(again.noise, city.noise)


@pytest.mark.slow
def test_evaluate_recommender_population_checks_tiny_run(tmp_path, capsys):
    out = tmp_path / "populations.json"
    call_command(
        "evaluate_recommender",
        "--populations", "project,distance",
        "--seeds", "1", "--residents", "150", "--days", "8", "--jobs", "1",
        "--json", str(out),
    )  # fmt: skip
    table = capsys.readouterr().out
    assert "| project | tuning | " in table and "| distance | tuning | " in table
    assert "| served ≥ nearest-first on every population |" in table
    data = json.loads(out.read_text())
    assert set(data["populations"]) == {"project", "distance"}
    distance = data["populations"]["distance"]
    assert distance["held_back"] is False
    assert distance["overrides"]["distance_weight"] == 3.5
    summary = distance["evaluation"]["summary"]
    ratio = summary["model"]["ndcg@10"][0] / summary["nearest"]["ndcg@10"][0]
    assert distance["ratio_nearest"] == pytest.approx(ratio)
    assert [t["name"] for t in data["targets"]] == [
        "served ≥ nearest-first on every population",
        "served ≥ 1.2 x nearest-first on average",
        "served ≥ 1.5 x newest-first on every population",
    ]


def test_evaluate_recommender_rejects_an_unknown_population():
    with pytest.raises(CommandError, match="unknown population nowhere"):
        call_command("evaluate_recommender", "--populations", "project,nowhere")


def _result(name: str, model: float, nearest: float, newest: float):
    metrics = {m: {"ndcg@10": v} for m, v in (("model", model), ("nearest", nearest))}
    metrics["newest"] = {"ndcg@10": newest}
    seed = SeedResult(0, metrics, {}, {}, "stage 2 logistic_regression", {}, 10, 0.0, 1.0)
    report = Report(SimConfig(), seeds=[seed])
    return population_checks.PopulationResult(BY_NAME[name], report, 1.0)


def test_population_targets_need_every_population_at_least_at_nearest_first():
    good = [_result("project", 0.4, 0.2, 0.1), _result("distance", 0.5, 0.45, 0.1)]
    met = {name: ok for name, ok, _ in population_checks.population_targets(good)}
    assert all(met.values())  # 2.0 and 1.11: mean 1.56

    one_loses = [_result("project", 0.6, 0.2, 0.1), _result("distance", 0.44, 0.45, 0.1)]
    targets = population_checks.population_targets(one_loses)
    assert [ok for _, ok, _ in targets] == [False, True, True]
    assert targets[0][2] == "lowest 0.98 (distance)"

    thin = [_result("project", 0.22, 0.2, 0.1), _result("distance", 0.46, 0.45, 0.4)]
    assert [ok for _, ok, _ in population_checks.population_targets(thin)] == [
        True,
        False,
        False,
    ]
