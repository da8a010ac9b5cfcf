"""Features of candidates for one resident: distances, flags, interests, history, text, time."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from apps.core.geo import haversine_m as scalar_haversine_m
from apps.recommend.engine.candidates import item_key
from apps.recommend.engine.context import (
    DISMISS,
    IMPRESSION,
    OPEN,
    SAVE,
    History,
    build_context,
)
from apps.recommend.engine.distance import haversine_m, segment_distance_m
from apps.recommend.engine.features import FEATURE_NAMES, compute_features
from apps.recommend.engine.text_vectors import encode_texts
from tests.recommend.builders import (
    CENTRE_AREA,
    CITY,
    CULTURE,
    DAY_S,
    HOME,
    METROPOLE,
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

PURE_MODULES = (
    "engine.candidates",
    "engine.context",
    "engine.distance",
    "engine.features",
    "offline.metrics",
    "engine.ranking",
    "engine.explain",
    "engine.text_vectors",
    "offline.fitting",
    "offline.simulation",
    "offline.evaluation",
)
RECOMMEND_DIR = Path(__file__).resolve().parents[2] / "apps" / "recommend"


def features_of(cands, context, **kwargs):
    return compute_features(cands, context, now_s=NOW_S, **kwargs)


def test_haversine_vectorised_matches_the_scalar_ground_truth():
    rng = np.random.default_rng(1)
    lon1, lat1 = rng.uniform(4.7, 4.95, 200), rng.uniform(45.7, 45.85, 200)
    lon2, lat2 = rng.uniform(4.7, 4.95, 200), rng.uniform(45.7, 45.85, 200)
    vectorised = haversine_m(lon1, lat1, lon2, lat2)
    scalar = [scalar_haversine_m(*args) for args in zip(lon1, lat1, lon2, lat2, strict=True)]
    np.testing.assert_allclose(vectorised, scalar, rtol=1e-9)
    assert np.isnan(haversine_m(np.nan, 45.7, 4.8, 45.7))


def test_segment_distance_is_perpendicular_inside_and_to_the_end_outside():
    a, b = offset(0, 0), offset(2000, 0)
    mid_above = offset(1000, 300)
    beyond = offset(2400, 300)
    d = segment_distance_m(
        np.array([mid_above[0], beyond[0]]), np.array([mid_above[1], beyond[1]]), *a, *b
    )
    assert d[0] == pytest.approx(300, rel=0.01)
    assert d[1] == pytest.approx(500, rel=0.01)


def test_features_distance_decay_is_exp_of_the_nearest_place_distance():
    points = [offset(dx, dy) for dx, dy in [(0, 0), (250, 0), (900, -400), (2800, 2100), (6000, 0)]]
    cands = candidates(*(record(i, at=p) for i, p in enumerate(points)))
    f = features_of(cands, build_context(profile(), None, now_s=NOW_S))
    for row, (lon, lat) in enumerate(points):
        nearest = min(scalar_haversine_m(lon, lat, p.lon, p.lat) for p in (HOME, WORK))
        assert f.column("decay_place_300")[row] == pytest.approx(math.exp(-nearest / 300))
        assert f.column("decay_place_1000")[row] == pytest.approx(math.exp(-nearest / 1000))
        assert f.column("decay_place_3000")[row] == pytest.approx(math.exp(-nearest / 3000))
        distances = [scalar_haversine_m(lon, lat, p.lon, p.lat) for p in (HOME, WORK)]
        np.testing.assert_allclose(f.place_distance_m[row], distances, rtol=1e-9)


def test_features_inside_radius_flags_are_per_place():
    # Home has a 500 m radius, work a 300 m one.
    near_home = offset(400)
    outside_home = offset(600)
    work_lon, work_lat = WORK.lon, WORK.lat
    near_work = (work_lon, work_lat + 250 / 111_195.0)
    outside_work = (work_lon, work_lat + 350 / 111_195.0)
    cands = candidates(
        *(record(i, at=p) for i, p in enumerate([near_home, outside_home, near_work, outside_work]))
    )
    f = features_of(cands, build_context(profile(), None, now_s=NOW_S))
    assert f.inside_place.tolist() == [[True, False], [False, False], [False, True], [False, False]]
    assert f.column("inside_place").tolist() == [1, 0, 1, 0]


def test_features_city_wide_items_have_no_distance_but_a_flag():
    cands = candidates(record(1, lon=None, lat=None), record(2))
    f = features_of(cands, build_context(profile(), None, now_s=NOW_S))
    assert f.column("city_wide").tolist() == [1, 0]
    for name in ("decay_place_300", "decay_place_1000", "decay_place_personal", "inside_place"):
        assert f.column(name)[0] == 0
    assert f.column("decay_place_1000")[1] == 1


def test_features_interest_match_flags():
    cands = candidates(
        record(
            1, category_id=CULTURE, organization_id=METROPOLE, area_ids=(NORTH_AREA, CENTRE_AREA)
        ),
        record(2, category_id=SPORT, organization_id=CITY, area_ids=(NORTH_AREA,)),
        record(3, category_id=MOBILITY, organization_id=CITY),
    )
    resident = profile(
        followed_categories=frozenset({CULTURE}),
        followed_areas=frozenset({CENTRE_AREA}),
        followed_organizations=frozenset({CITY}),
    )
    f = features_of(cands, build_context(resident, None, now_s=NOW_S))
    assert f.column("followed_category").tolist() == [1, 0, 0]
    assert f.column("followed_area").tolist() == [1, 0, 0]
    assert f.followed_area.tolist() == [CENTRE_AREA, -1, -1]
    assert f.column("followed_organization").tolist() == [0, 1, 1]


def _history(rows):
    """History rows: (key id, category, action, days ago, text)."""
    return History(
        item_key=np.array([item_key("news", r[0]) for r in rows], dtype=np.int64),
        item_type=np.zeros(len(rows), dtype=np.int64),
        category=np.array([r[1] for r in rows], dtype=np.int64),
        lon=np.full(len(rows), offset(200)[0]),
        lat=np.full(len(rows), offset(200)[1]),
        action=np.array([r[2] for r in rows], dtype=np.int64),
        at_s=np.array([NOW_S - r[3] * DAY_S for r in rows]),
        text=encode_texts([r[4] for r in rows]),
    )


def test_features_category_affinity_and_dismissal_come_from_past_interactions():
    history = _history(
        [
            (1, CULTURE, IMPRESSION, 3, "concert jazz parc"),
            (1, CULTURE, OPEN, 3, "concert jazz parc"),
            (2, CULTURE, SAVE, 2, "exposition peinture musée"),
            (3, SPORT, IMPRESSION, 2, "match football stade"),
            (3, SPORT, DISMISS, 2, "match football stade"),
            (4, CULTURE, OPEN, -1, "the future must not count"),
        ]
    )
    context = build_context(profile(), history, now_s=NOW_S)
    cands = candidates(
        record(10, category_id=CULTURE),
        record(11, category_id=SPORT),
        record(12, category_id=MOBILITY),
    )
    f = features_of(cands, context)
    affinity = f.column("category_affinity")
    assert affinity[0] > 0.3 and affinity[1] == 0 and affinity[2] == 0
    dismissal = f.column("category_dismissal")
    assert dismissal[1] > 0 and dismissal[0] == 0
    assert f.column("category_ctr_lift")[0] > 0 > f.column("category_ctr_lift")[1]
    assert context.n_positive == 2  # the open "in the future" is not history yet
    assert context.dismissed_keys.tolist() == [item_key("news", 3)]


def test_features_text_similarity_is_tfidf_cosine_to_engaged_items():
    history = _history([(1, CULTURE, OPEN, 1, "Concert de jazz au parc de la Tête d'Or")])
    context = build_context(profile(), history, now_s=NOW_S)
    cands = candidates(
        record(10, text="Un concert de jazz au parc"),
        record(11, text="Travaux de voirie rue Garibaldi"),
        record(12, text=""),
    )
    similarity = features_of(cands, context).column("text_similarity")
    assert similarity[0] > 0.5
    assert similarity[1] == 0 and similarity[2] == 0


def test_features_time_to_start_recency_and_active_works():
    cands = candidates(
        record(1, type="events", start_at_s=NOW_S + DAY_S, end_at_s=NOW_S + DAY_S + 7200),
        record(2, type="events", start_at_s=NOW_S - 3600, end_at_s=NOW_S + 3600),
        record(3, type="works", start_at_s=NOW_S - DAY_S, end_at_s=NOW_S + 5 * DAY_S, severity=1.0),
        record(4, type="works", start_at_s=NOW_S + 3 * DAY_S, end_at_s=NOW_S + 9 * DAY_S),
        record(5, published_at_s=NOW_S - 7 * DAY_S, urgency=2),
    )
    f = features_of(cands, build_context(profile(), None, now_s=NOW_S))
    assert f.column("event_starts_soon")[0] == pytest.approx(math.exp(-0.5))
    assert f.column("event_ongoing").tolist() == [0, 1, 0, 0, 0]
    assert f.column("works_active").tolist() == [0, 0, 1, 0, 0]
    assert f.column("works_upcoming")[3] == pytest.approx(math.exp(-1))
    assert f.column("recency_7d")[4] == pytest.approx(math.exp(-1))
    assert f.column("recency_1d")[0] == pytest.approx(math.exp(-1 / 24))
    assert f.column("urgency_alert").tolist() == [0, 0, 0, 0, 1]
    assert f.column("type_events").tolist() == [1, 1, 0, 0, 0]
    assert f.values.shape == (5, len(FEATURE_NAMES))


def test_features_route_works_only_near_the_line_between_places():
    midway = ((HOME.lon + WORK.lon) / 2, (HOME.lat + WORK.lat) / 2)
    cands = candidates(
        record(
            1,
            type="works",
            at=midway,
            start_at_s=NOW_S - DAY_S,
            end_at_s=NOW_S + DAY_S,
            severity=1.0,
        ),
        record(2, type="news", at=midway),
        record(3, type="works", at=offset(-3000, -3000), start_at_s=NOW_S, end_at_s=NOW_S + DAY_S),
    )
    f = features_of(cands, build_context(profile(), None, now_s=NOW_S))
    assert f.column("route_works")[0] == pytest.approx(1.0, abs=0.01)
    assert f.column("route_works")[1] == 0
    assert f.column("route_works")[2] < 1e-4


def test_features_use_distances_precomputed_by_the_database():
    from dataclasses import replace

    cands = replace(
        candidates(record(1), record(2)),
        place_distance_m=np.array([[100.0, 5000.0], [2000.0, 50.0]]),
    )
    f = features_of(cands, build_context(profile(), None, now_s=NOW_S))
    assert f.column("decay_place_1000") == pytest.approx([math.exp(-0.1), math.exp(-0.05)])
    assert f.inside_place.tolist() == [[True, False], [False, True]]


def test_features_anonymous_context_uses_only_the_request_point():
    resident = profile(personalized=False, followed_categories=frozenset({MOBILITY}))
    context = build_context(resident, None, now_s=NOW_S, point=offset(1000))
    f = features_of(candidates(record(1)), context)
    assert f.column("decay_point_1000")[0] == pytest.approx(math.exp(-1), rel=1e-3)
    for name in ("decay_place_1000", "inside_place", "followed_category", "type_affinity"):
        assert f.column(name)[0] == 0


def test_pure_modules_import_no_orm():
    """Features, ranking, training and the evaluation never touch the database layer."""
    forbidden = ("django.db", "django.contrib.gis.db", "apps.core.geo", "apps.core.models")
    for name in PURE_MODULES:
        tree = ast.parse((RECOMMEND_DIR / f"{name.replace('.', '/')}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            else:
                continue
            for module in imported:
                assert not module.startswith(forbidden), f"{name}.py imports {module}"
                assert not module.endswith(".models"), f"{name}.py imports {module}"
    # And transitively: importing them loads no part of Django at all.
    code = (
        "import sys; import "
        + ", ".join(f"apps.recommend.{m}" for m in PURE_MODULES)
        + "; print(sorted(m for m in sys.modules if m.startswith('django')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=RECOMMEND_DIR.parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_history_from_records_feeds_the_context():
    from apps.recommend.engine.context import HistoryRecord

    history = History.from_records(
        [
            HistoryRecord("events", 5, CULTURE, *offset(300), "open", NOW_S - DAY_S, "Concert"),
            HistoryRecord("news", 6, SPORT, None, None, "dismiss", NOW_S - DAY_S, "Match"),
        ]
    )
    context = build_context(profile(), history, now_s=NOW_S)
    assert context.n_positive == 1
    assert context.dismissed_keys.tolist() == [item_key("news", 6)]
    assert context.type_affinity.argmax() == 2  # events
    assert context.profile_text.shape[0] == 1


def test_candidates_take_keeps_rows_areas_and_texts_together():
    cands = candidates(
        record(1, area_ids=(CENTRE_AREA,), text="concert"),
        record(2, area_ids=(), text="travaux"),
        record(3, area_ids=(NORTH_AREA, CENTRE_AREA), text="marché"),
    )
    picked = cands.take([2, 0, 2])
    assert picked.item_id.tolist() == [3, 1, 3]
    pairs = sorted(zip(picked.area_item.tolist(), picked.area_id.tolist(), strict=True))
    expected = [
        (0, NORTH_AREA),
        (0, CENTRE_AREA),
        (1, CENTRE_AREA),
        (2, NORTH_AREA),
        (2, CENTRE_AREA),
    ]
    assert pairs == sorted(expected)
    assert (picked.text[1] != cands.text[0]).nnz == 0
    masked = cands.take(np.array([False, True, True]))
    assert masked.item_id.tolist() == [2, 3]
    assert (masked.text[0] != cands.text[1]).nnz == 0
