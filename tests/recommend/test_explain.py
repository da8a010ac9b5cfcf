"""Explanations: present, in French and English, and true for the item and the resident."""

from __future__ import annotations

import numpy as np
import pytest

from apps.core.geo import haversine_m
from apps.recommend.engine.candidates import ALERT, CandidateRecord, Candidates
from apps.recommend.engine.context import Place, ResidentProfile, build_context
from apps.recommend.engine.explain import Labels, explain, format_distance
from apps.recommend.engine.ranking import RankConfig, Stage1Ranker, rank
from apps.recommend.online.feed_service import reason_translator
from tests.recommend.builders import (
    CENTRE_AREA,
    CULTURE,
    DAY_S,
    HOME,
    MOBILITY,
    NORTH_AREA,
    NOW_S,
    SPORT,
    WORK,
    candidates,
    offset,
    profile,
    record,
)

LABELS_FR = Labels(
    categories={CULTURE: "Culture", MOBILITY: "Mobilité", SPORT: "Sport"},
    areas={CENTRE_AREA: "Presqu'île", NORTH_AREA: "Croix-Rousse"},
)
LABELS_EN = Labels(
    categories={CULTURE: "Culture", MOBILITY: "Mobility", SPORT: "Sport"},
    areas={CENTRE_AREA: "Presqu'île", NORTH_AREA: "Croix-Rousse"},
)


def reasons_for(cands, context, *, language="fr", labels=LABELS_FR, ranker=None):
    ranking = rank(cands, context, now_s=NOW_S, ranker=ranker or Stage1Ranker())
    rows = np.arange(len(cands))
    explained = explain(
        ranking,
        cands,
        context,
        rows,
        labels=labels,
        language=language,
        translate=reason_translator(language),
    )
    return {int(cands.item_id[r]): explained[k] for k, r in enumerate(rows)}


def codes(reasons):
    return [reason.code for reason in reasons]


def test_explain_near_place_names_the_place_only_inside_its_radius():
    cands = candidates(
        record(1, at=offset(350)),  # inside home's 500 m radius
        record(2, at=offset(650)),  # close, but outside the radius
    )
    context = build_context(profile(), None, now_s=NOW_S)
    french = reasons_for(cands, context)
    assert french[1][0].code == "near_place"
    assert french[1][0].text == "350 m de Domicile"
    assert "near_place" not in codes(french[2])
    english = reasons_for(cands, context, language="en", labels=LABELS_EN)
    assert english[1][0].text == "350 m from Domicile"


def test_explain_follows_category_only_when_followed():
    cands = candidates(
        record(1, category_id=CULTURE, at=offset(-7000, 5000)),
        record(2, category_id=SPORT, at=offset(-7000, 5000)),
    )
    context = build_context(profile(followed_categories=frozenset({CULTURE})), None, now_s=NOW_S)
    french = reasons_for(cands, context)
    assert ("follows_category", "Vous suivez Culture") in [(r.code, r.text) for r in french[1]]
    assert "follows_category" not in codes(french[2])
    english = reasons_for(cands, context, language="en", labels=LABELS_EN)
    assert "You follow Culture" in [r.text for r in english[1]]


def test_explain_timing_and_urgency_texts():
    tomorrow_evening = NOW_S + DAY_S + 9 * 3600
    old, far = NOW_S - 5 * DAY_S, offset(-6000, 6000)
    cands = candidates(
        record(1, type="events", at=far, published_at_s=old, start_at_s=tomorrow_evening),
        record(2, type="works", at=far, published_at_s=old, start_at_s=old, end_at_s=NOW_S + DAY_S),
        record(3, urgency=ALERT, at=offset(100)),
        record(4, type="events", start_at_s=NOW_S + 20 * DAY_S, end_at_s=NOW_S + 21 * DAY_S),
    )
    context = build_context(profile(), None, now_s=NOW_S)
    french = reasons_for(cands, context)
    assert "Commence demain" in [r.text for r in french[1]]
    assert "Travaux en cours" in [r.text for r in french[2]]
    assert french[3][0].code == "urgent" and french[3][0].text == "Alerte"
    assert "starts_soon" not in codes(french[4])  # in three weeks is not "soon"
    english = reasons_for(cands, context, language="en", labels=LABELS_EN)
    assert "Starts tomorrow" in [r.text for r in english[1]]
    assert "Works in progress" in [r.text for r in english[2]]


def test_explain_gives_every_item_with_a_true_fact_a_reason():
    cands = candidates(record(1, at=offset(8000, 8000), published_at_s=NOW_S - 3600))
    context = build_context(profile(), None, now_s=NOW_S)
    assert codes(reasons_for(cands, context)[1]) == ["recent"]


def test_format_distance_by_language():
    assert format_distance(20, "fr") == "< 50 m"
    assert format_distance(347, "fr") == "350 m"
    assert format_distance(1234, "fr") == "1,2 km"
    assert format_distance(1234, "en") == "1.2 km"


@pytest.mark.parametrize(("seed", "stage"), [(1, 1), (2, 1), (3, 2), (4, 2)])
def test_explain_reasons_are_true_for_random_items_and_residents(seed, stage, request):
    """Whatever the scores (stage 1 or a trained model), a reason is only given when its fact
    holds."""
    ranker = Stage1Ranker() if stage == 1 else request.getfixturevalue("trained").ranker()
    rng = np.random.default_rng(seed)
    points = [offset(float(dx), float(dy)) for dx, dy in rng.uniform(-2500, 4000, (300, 2))]
    records = [
        CandidateRecord(
            type="news",
            id=i,
            category_id=int(rng.choice([CULTURE, MOBILITY, SPORT])),
            organization_id=10,
            lon=points[i][0],
            lat=points[i][1],
            published_at_s=NOW_S - float(rng.uniform(0, 10)) * DAY_S,
            area_ids=(int(rng.choice([CENTRE_AREA, NORTH_AREA])),),
        )
        for i in range(300)
    ]
    cands = Candidates.from_records(records)
    places = (
        Place("Domicile", HOME.lon, HOME.lat, float(rng.choice([300, 500, 1000]))),
        Place("Travail", WORK.lon, WORK.lat, float(rng.choice([300, 500, 1000]))),
    )
    followed = frozenset({int(rng.choice([CULTURE, MOBILITY, SPORT]))})
    resident = ResidentProfile(places, followed, frozenset({CENTRE_AREA}))
    context = build_context(resident, None, now_s=NOW_S)
    ranking = rank(cands, context, now_s=NOW_S, ranker=ranker, config=RankConfig())
    rows = ranking.order[:60]
    explained = explain(ranking, cands, context, rows, labels=LABELS_FR, max_reasons=3)
    seen = set()
    for row, reasons in zip(rows, explained, strict=True):
        if not reasons:  # then no fact could be given
            assert not ranking.features.inside_place[row].any()
            assert int(cands.category[row]) not in followed
            assert CENTRE_AREA not in cands.area_id[cands.area_item == row]
            assert NOW_S - cands.published_s[row] > 2 * DAY_S
        for reason in reasons:
            seen.add(reason.code)
            if reason.code == "near_place":
                distance, label = reason.text.split(" de ")
                place = next(p for p in places if p.label == label)
                d = haversine_m(cands.lon[row], cands.lat[row], place.lon, place.lat)
                assert d <= place.radius_m
                assert distance == format_distance(d, "fr")
            if reason.code == "follows_category":
                assert int(cands.category[row]) in followed
                assert (
                    reason.text == f"Vous suivez {LABELS_FR.categories[int(cands.category[row])]}"
                )
            if reason.code == "follows_area":
                assert reason.text == "Dans Presqu'île, que vous suivez"
                assert CENTRE_AREA in cands.area_id[cands.area_item == row]
            if reason.code == "recent":
                assert NOW_S - cands.published_s[row] <= 2 * DAY_S
    assert {"near_place", "follows_category"} <= seen
