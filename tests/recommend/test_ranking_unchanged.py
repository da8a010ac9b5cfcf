"""Speed work on the ranking keeps its results: same order, scores and reasons on a generated city.

``diversify`` walks plain lists of rows and categories and ``explain`` plain lists
(bench/feed_profile.py); the references below are their previous bodies, and every resident of
a generated city is ranked and explained by both.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.recommend.engine.explain import (
    FEATURE_INDEX,
    PARIS,
    REASON_CODES,
    REASON_FEATURES,
    Labels,
    Reason,
    _Explainer,
    explain,
    pgettext,
)
from apps.recommend.engine.ranking import RankConfig, Stage1Ranker, diversify, rank
from apps.recommend.offline.simulation import SimConfig, generate_city, live_rows


def _diversify_reference(order, categories, *, max_per_category, window, top):
    head = [int(i) for i in order[:top]]
    result: list[int] = []
    recent: Counter[int] = Counter()
    while head:
        pick = next(
            (k for k, row in enumerate(head) if recent[int(categories[row])] < max_per_category),
            0,
        )
        row = head.pop(pick)
        result.append(row)
        recent[int(categories[row])] += 1
        if len(result) >= window:
            recent[int(categories[result[-window]])] -= 1
    return np.concatenate([np.array(result, dtype=np.int64), order[top:]]).astype(np.int64)


def _explain_reference(ranking, candidates, context, rows, max_reasons=2):
    rows = np.asarray(rows, dtype=np.int64)
    explainer = _Explainer(
        ranking, candidates, context, labels=Labels(), language="fr", translate=pgettext, tz=PARIS
    )
    contributions = ranking.ranker.contributions(ranking.features.values[rows])
    by_code = {
        code: contributions[:, [FEATURE_INDEX[n] for n in names]].sum(axis=1)
        for code, names in REASON_FEATURES.items()
    }
    result = []
    for k, row in enumerate(rows):
        true = []
        for code in REASON_CODES:
            text = explainer.text(code, int(row))
            if text is not None:
                true.append((float(by_code[code][k]), code, text))
        true.sort(key=lambda item: -item[0])
        if ranking.pinned[row]:
            true.sort(key=lambda item: item[1] != "urgent")
        chosen = [item for item in true if item[0] > 0 or item[1] == "urgent"][:max_reasons]
        if not chosen and true:
            chosen = true[:1]
        result.append([Reason(code, text) for _, code, text in chosen])
    return result


@pytest.fixture(scope="module")
def city():
    return generate_city(SimConfig(residents=40, days=6, seed=5))


def test_diversify_orders_a_generated_city_as_before(city):
    from apps.recommend.engine.context import build_context

    now_s = city.test_start_s
    rows = live_rows(city, now_s)
    candidates = city.catalog.take(rows)
    ranker = Stage1Ranker()
    config = RankConfig()
    compared = 0
    for profile in city.profiles:
        context = build_context(profile, None, now_s=now_s)
        ranking = rank(candidates, context, now_s=now_s, ranker=ranker)
        kept = np.flatnonzero(np.isfinite(ranking.scores))
        by_score = kept[
            np.lexsort(
                (
                    -candidates.published_s[kept],
                    -ranking.scores[kept],
                    ~ranking.pinned[kept],
                )
            )
        ]
        n_pinned = int(ranking.pinned.sum())
        for top in (config.diversify_top, len(by_score)):
            args = {"max_per_category": config.max_per_category, "window": config.window}
            new = diversify(by_score[n_pinned:], candidates.category, top=top, **args)
            old = _diversify_reference(by_score[n_pinned:], candidates.category, top=top, **args)
            assert new.tolist() == old.tolist()
        expected = np.concatenate(
            [
                by_score[:n_pinned],
                _diversify_reference(
                    by_score[n_pinned:],
                    candidates.category,
                    max_per_category=config.max_per_category,
                    window=config.window,
                    top=config.diversify_top,
                ),
            ]
        )
        assert ranking.order.tolist() == expected.tolist()
        head = ranking.order[:40]
        reasons = explain(ranking, candidates, context, head)
        assert reasons == _explain_reference(ranking, candidates, context, head)
        assert any(reasons)
        compared += 1
    assert compared == len(city.profiles) > 0


@settings(max_examples=300, deadline=None)
@given(
    categories=st.lists(st.integers(0, 4), min_size=0, max_size=60),
    max_per_category=st.integers(0, 5),
    window=st.integers(1, 12),
    top=st.integers(0, 70),
    seed=st.integers(0, 2**16),
)
def test_diversify_equals_its_step_by_step_reference(
    categories, max_per_category, window, top, seed
):
    """The rows taken in order before the first crowded one, then the greedy: the same order
    as the greedy from the start, whatever the categories, window, cap and ``top``."""
    rng = np.random.default_rng(seed)
    n = len(categories)
    order = rng.permutation(n).astype(np.int64)
    cats = np.array(categories, dtype=np.int64)
    args = {"max_per_category": max_per_category, "window": window, "top": top}
    expected = _diversify_reference(order, cats, **args)
    assert diversify(order, cats, **args).tolist() == expected.tolist()
