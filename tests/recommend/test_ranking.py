"""Ranking: stage 1 order, filters (never expired, never dismissed), pinned alerts, diversity."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.recommend.engine.candidates import ALERT, item_key
from apps.recommend.engine.context import DISMISS, OPEN, History, build_context
from apps.recommend.engine.explain import explain
from apps.recommend.engine.ranking import (
    DISMISSED,
    NEAR_DUPLICATE,
    NOT_LIVE,
    RankConfig,
    Stage1Ranker,
    diversify,
    rank,
)
from apps.recommend.engine.text_vectors import encode_texts
from tests.recommend.builders import (
    CULTURE,
    DAY_S,
    MOBILITY,
    NOW_S,
    SPORT,
    candidates,
    offset,
    profile,
    record,
)


def _rank(cands, context, **config):
    return rank(cands, context, now_s=NOW_S, ranker=Stage1Ranker(), config=RankConfig(**config))


def test_stage1_ranks_a_near_followed_item_above_a_far_unfollowed_one():
    cands = candidates(
        record(1, category_id=SPORT, at=offset(8000, 6000)),
        record(2, category_id=CULTURE, at=offset(200)),
    )
    context = build_context(profile(followed_categories=frozenset({CULTURE})), None, now_s=NOW_S)
    ranking = _rank(cands, context)
    assert cands.item_id[ranking.order].tolist() == [2, 1]
    assert ranking.scores[1] > ranking.scores[0]


def test_stage1_works_for_a_cold_anonymous_caller_by_the_point():
    cands = candidates(record(1, at=offset(5000)), record(2, at=offset(300)))
    context = build_context(profile(personalized=False), None, now_s=NOW_S, point=offset(0))
    assert cands.item_id[_rank(cands, context).order].tolist() == [2, 1]


def test_rank_never_returns_expired_over_or_unpublished_items():
    cands = candidates(
        record(1),
        record(2, expires_at_s=NOW_S - 1),  # expired
        record(3, type="events", start_at_s=NOW_S - 7200, end_at_s=NOW_S - 60),  # over
        record(4, type="works", start_at_s=NOW_S - 9 * DAY_S, end_at_s=NOW_S),  # just finished
        record(5, published_at_s=NOW_S + 60),  # scheduled
        record(6, type="events", start_at_s=NOW_S + DAY_S, end_at_s=NOW_S + DAY_S + 3600),
        record(7, expires_at_s=NOW_S + 60, urgency=ALERT),
    )
    context = build_context(profile(), None, now_s=NOW_S)
    ranking = _rank(cands, context)
    assert sorted(cands.item_id[ranking.order].tolist()) == [1, 6, 7]
    assert ranking.removed.tolist() == [0, NOT_LIVE, NOT_LIVE, NOT_LIVE, NOT_LIVE, 0, 0]
    assert np.isneginf(ranking.scores[[1, 2, 3, 4]]).all()


def test_rank_drops_dismissed_items_and_their_near_duplicates():
    dismissed_text = "Fermeture de la piscine municipale pour vidange annuelle"
    history = History(
        item_key=np.array([item_key("news", 1)] * 2),
        item_type=np.zeros(2, dtype=np.int64),
        category=np.array([SPORT, SPORT]),
        lon=np.full(2, np.nan),
        lat=np.full(2, np.nan),
        action=np.array([OPEN, DISMISS]),
        at_s=np.array([NOW_S - DAY_S, NOW_S - DAY_S]),
        text=encode_texts([dismissed_text] * 2),
    )
    context = build_context(profile(), history, now_s=NOW_S)
    cands = candidates(
        record(1, text=dismissed_text),
        record(2, text="Fermeture de la piscine municipale : vidange annuelle"),
        record(3, text="Réouverture de la piscine municipale après travaux"),
        record(4, text="Concert au parc"),
    )
    ranking = _rank(cands, context)
    assert ranking.removed.tolist() == [DISMISSED, NEAR_DUPLICATE, 0, 0]
    assert sorted(cands.item_id[ranking.order].tolist()) == [3, 4]


def test_rank_pins_alerts_about_the_resident_first():
    cands = candidates(
        record(1, category_id=CULTURE, at=offset(100)),
        record(2, urgency=ALERT, at=offset(300)),  # inside home's radius
        record(3, urgency=ALERT, at=offset(-9000, -9000)),  # far from every place
        record(4, urgency=ALERT, lon=None, lat=None),  # city-wide
    )
    context = build_context(profile(followed_categories=frozenset({CULTURE})), None, now_s=NOW_S)
    ranking = _rank(cands, context)
    ids = cands.item_id[ranking.order].tolist()
    assert set(ids[:2]) == {2, 4}
    assert ranking.pinned.tolist() == [False, True, False, True]
    assert set(ids[2:]) == {1, 3}


def test_rank_pins_a_city_wide_alert_only_while_it_is_new():
    # A city-wide alert is in every resident's feed: pinned for a day, then ranked by score;
    # an alert inside a place stays pinned while it is live, however old.
    two_days = NOW_S - 2 * DAY_S
    cands = candidates(
        record(1, urgency=ALERT, lon=None, lat=None),  # city-wide, an hour old
        record(2, urgency=ALERT, lon=None, lat=None, published_at_s=two_days),
        record(3, urgency=ALERT, at=offset(300), published_at_s=two_days),  # inside home
    )
    context = build_context(profile(), None, now_s=NOW_S)
    assert _rank(cands, context).pinned.tolist() == [True, False, True]
    assert _rank(cands, context, city_wide_alert_pin_s=3 * DAY_S).pinned.tolist() == [
        True,
        True,
        True,
    ]
    assert 2 in cands.item_id[_rank(cands, context).order].tolist()  # ranked, not dropped


def test_rank_diversity_caps_a_category_in_every_window():
    # Twelve culture items right at home outscore eight mobility items, then eight sport ones.
    records = [record(i, category_id=CULTURE, at=offset(10 * i)) for i in range(12)]
    records += [record(100 + i, category_id=MOBILITY, at=offset(1500 + 10 * i)) for i in range(8)]
    records += [record(200 + i, category_id=SPORT, at=offset(2500 + 10 * i)) for i in range(8)]
    cands = candidates(*records)
    context = build_context(profile(), None, now_s=NOW_S)
    order = _rank(cands, context, max_per_category=4, window=10).order
    capped = cands.category[order]
    assert Counter(capped[:10].tolist()) == {CULTURE: 4, MOBILITY: 4, SPORT: 2}
    for start in range(len(capped) - 9):
        window = Counter(capped[start : start + 10].tolist())
        if start + 10 <= 18:  # while the three categories can fill a window
            assert max(window.values()) <= 4, (start, window)
    # Within a category the score order holds; nothing is lost, only moved down.
    assert cands.item_id[order][capped == CULTURE].tolist() == list(range(12))
    assert len(order) == 28
    uncapped = cands.category[_rank(cands, context, max_per_category=10).order]
    assert Counter(uncapped[:10].tolist())[CULTURE] == 10


@settings(max_examples=60, deadline=None)
@given(
    categories=st.lists(st.integers(0, 3), min_size=1, max_size=40),
    cap=st.integers(1, 4),
    window=st.integers(2, 8),
)
def test_diversify_keeps_every_row_and_respects_the_cap_while_it_can(categories, cap, window):
    cats = np.array(categories)
    order = np.arange(len(cats))
    result = diversify(order, cats, max_per_category=cap, window=window, top=len(cats))
    assert sorted(result.tolist()) == order.tolist()
    placed: list[int] = []
    for row in result.tolist():
        recent = Counter(int(cats[p]) for p in placed[-(window - 1) :])
        remaining = [r for r in order.tolist() if r not in placed]
        eligible = [r for r in remaining if recent[int(cats[r])] < cap]
        if eligible:
            # The pick is the best-scored (lowest index here) eligible row.
            assert row == min(eligible)
        placed.append(row)


def test_rank_and_explain_an_empty_candidate_set():
    cands = candidates()
    context = build_context(profile(), None, now_s=NOW_S)
    ranking = _rank(cands, context)
    assert ranking.order.tolist() == []
    assert explain(ranking, cands, context, ranking.order[:20]) == []
