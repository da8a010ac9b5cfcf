"""Team-draft interleaving, the nearest-first reference and the sign test (pure, no database)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from apps.recommend.engine.features import FEATURE_NAMES
from apps.recommend.engine.interleaving import (
    BETTER,
    REFERENCE,
    SERVED,
    UNDECIDED,
    WORSE,
    Comparison,
    NearestFirstRanker,
    request_outcome,
    team_draft,
    wilson_interval,
)


def test_team_draft_interleaving_keeps_each_teams_order_and_balances_the_teams():
    served = np.arange(20)
    reference = served[::-1].copy()
    order, team = team_draft(served, reference, length=20, rng=np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(20))  # every row once
    for who, ranking in ((SERVED, served), (REFERENCE, reference)):
        picked = order[team == who]
        rank_of = {int(r): k for k, r in enumerate(ranking)}
        assert [rank_of[int(r)] for r in picked] == sorted(rank_of[int(r)] for r in picked)
    # Each round gives one item to each team: the counts differ by at most one at any prefix.
    for k in range(1, 21):
        assert abs(int((team[:k] == SERVED).sum()) - int((team[:k] == REFERENCE).sum())) <= 1


def test_team_draft_first_pick_is_a_fair_coin():
    firsts = [
        team_draft(np.arange(5), np.arange(5)[::-1].copy(), length=5, rng=rng)[1][0]
        for rng in (np.random.default_rng(seed) for seed in range(400))
    ]
    assert 0.4 < np.mean(np.array(firsts) == SERVED) < 0.6


def test_team_draft_identical_rankings_give_the_same_order():
    rows = np.array([4, 2, 9, 1])
    order, team = team_draft(rows, rows.copy(), length=10, rng=np.random.default_rng(1))
    assert order.tolist() == [4, 2, 9, 1] and len(team) == 4


def test_team_draft_rows_in_one_ranking_only_are_placed_by_its_team():
    order, team = team_draft(
        np.array([1, 2, 3]), np.array([3]), length=10, rng=np.random.default_rng(2)
    )
    assert sorted(order.tolist()) == [1, 2, 3]
    assert set(team[order != 3].tolist()) == {SERVED}


def test_request_outcome():
    assert [request_outcome(*c) for c in ((2, 1), (0, 1), (1, 1), (0, 0))] == [1, -1, 0, 0]


def test_wilson_interval_matches_the_textbook_value():
    low, high = wilson_interval(81, 263, alpha=0.05)  # Wilson (1927), as in Newcombe (1998)
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(0, 0, alpha=0.05) == (0.0, 1.0)


def test_comparison_sign_test_and_verdicts():
    c = Comparison(wins=70, losses=40, ties=25, alpha=0.05, min_comparisons=100)
    assert c.p_value == pytest.approx(binomtest(70, 110, 0.5).pvalue)
    assert c.verdict == BETTER and c.ci_low > 0.5 and c.win_rate == pytest.approx(70 / 110)
    assert Comparison(wins=40, losses=70, ties=0, alpha=0.05, min_comparisons=100).verdict == WORSE
    # Too few decided requests, or no significant difference: undecided.
    assert Comparison(wins=30, losses=5, ties=0, alpha=0.05, min_comparisons=100).verdict == (
        UNDECIDED
    )
    assert Comparison(wins=55, losses=50, ties=9, alpha=0.05, min_comparisons=100).verdict == (
        UNDECIDED
    )
    empty = Comparison(wins=0, losses=0, ties=3, alpha=0.05, min_comparisons=1)
    assert (empty.p_value, empty.verdict, empty.decided) == (1.0, UNDECIDED, 0)


def test_nearest_first_ranks_by_the_nearest_place_or_point():
    values = np.zeros((3, len(FEATURE_NAMES)))
    place = FEATURE_NAMES.index("decay_place_3000")
    point = FEATURE_NAMES.index("decay_point_1000")
    values[0, place] = np.exp(-2000 / 3000)  # 2 km from a place
    values[1, point] = np.exp(-1000 / 1000)  # 1 km from the request point
    scores = NearestFirstRanker().score(values)
    assert scores[1] > scores[0] > scores[2] == 0
    assert scores[1] == pytest.approx(np.exp(-1000 / 3000))
    assert NearestFirstRanker().contributions(values).sum(axis=1) == pytest.approx(scores)
