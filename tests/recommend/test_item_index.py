"""The item index against the SQL candidate statement, on a generated (bench) city.

Same candidate sets, same facts (distances to the real geometries included) and the same
ranked feed, anonymous and personal; the index follows content changes through the content
generation, and time (expiry, next dates) without a rebuild.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.gis.geos import LineString, Point

from apps.core.geo import point as make_point
from apps.core.services import content_archive
from apps.events.models import Event
from apps.recommend.engine.candidates import Candidates
from apps.recommend.online.candidate_query import CandidateRequest, feed_catalog
from apps.recommend.online.feed_service import feed_build
from apps.recommend.online.index_query import index_catalog
from apps.recommend.online.item_index import current_index, index_build
from apps.recommend.selectors import resident_inputs
from apps.recommend.services import item_popularity_refresh
from apps.residents.models import Device
from apps.works.models import Works
from bench.city.build import CitySpec, build
from tests.recommend.feed_support import works

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CITY = CitySpec(devices=120, items=900, interactions=6000, seed=11, token_sample=10, now=NOW)


@pytest.fixture
def city(time_machine):
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    build(CITY)
    item_popularity_refresh()  # the trending source and the popularity column
    return np.random.default_rng(5)


def _points(rng, n):
    lon0, lat0 = _centre()
    return [make_point(lon0 + rng.normal(0, 0.03), lat0 + rng.normal(0, 0.02)) for _ in range(n)]


def _centre():
    extent = np.array(
        Works.objects.filter(geometry__isnull=False).values_list("geometry", flat=True)[0].extent
    )
    return float(extent[0]), float(extent[1])


def _requests(rng, now):
    out = [
        CandidateRequest(now=now),
        *(CandidateRequest(now=now, point=p) for p in _points(rng, 6)),
    ]
    for device in Device.objects.filter(personalization_consent=True).order_by("pk")[:12]:
        inputs = resident_inputs(device_id=device.pk)
        history: dict[str, set[int]] = {}
        for code, item_id, _, _ in inputs.history:
            history.setdefault(code, set()).add(item_id)
        point = _points(rng, 1)[0] if device.pk % 2 else None
        out.append(
            CandidateRequest(
                now=now,
                places=[make_point(p.lon, p.lat) for p in inputs.places],
                point=point,
                followed_categories=inputs.follows.categories,
                followed_areas=frozenset(inputs.follows.areas),
                followed_organizations=inputs.follows.organizations,
                history=history,
                personal=True,
            )
        )
    return out


def _by_key(c: Candidates) -> dict[int, int]:
    return {int(k): row for row, k in enumerate(c.keys)}


def _assert_same_facts(sql: Candidates, mine: Candidates) -> None:
    a, b = _by_key(sql), _by_key(mine)
    assert set(a) == set(b)
    ra = np.array([a[k] for k in sorted(a)], dtype=np.int64)
    rb = np.array([b[k] for k in sorted(b)], dtype=np.int64)
    for name in ("item_type", "item_id", "category", "organization", "urgency"):
        assert np.array_equal(getattr(sql, name)[ra], getattr(mine, name)[rb]), name
    for name in ("lon", "lat", "published_s", "start_s", "end_s", "expires_s", "popularity",
                 "severity"):  # fmt: skip
        np.testing.assert_allclose(getattr(mine, name)[rb], getattr(sql, name)[ra], rtol=1e-12,
                                   err_msg=name)  # fmt: skip
    for name in ("place_distance_m", "point_distance_m"):
        x, y = getattr(sql, name), getattr(mine, name)
        assert (x is None) == (y is None), name
        if x is not None:
            # The same formula as PostGIS in the same frame: equal to a micrometre.
            np.testing.assert_allclose(y[rb], x[ra], rtol=0, atol=1e-6, err_msg=name)
    assert (sql.text[ra] != mine.text[rb]).nnz == 0
    areas_a = sorted(
        zip(sql.item_id[sql.area_item], sql.item_type[sql.area_item], sql.area_id, strict=True)
    )
    areas_b = sorted(
        zip(mine.item_id[mine.area_item], mine.item_type[mine.area_item], mine.area_id, strict=True)
    )
    assert areas_a == areas_b


def test_index_gives_the_sql_candidates_and_facts_on_a_generated_city(city):
    now = NOW + timedelta(minutes=5)
    index = current_index()
    assert index is not None and len(index) > 500
    lines = int(np.count_nonzero(index.segments.counts(np.arange(len(index))) > 1))
    assert lines > 100  # works lines and sites: distances measured on their vertices
    requests = _requests(city, now)
    assert sum(r.personal for r in requests) >= 8
    for request in requests:
        sql = feed_catalog(request)
        mine = index_catalog(index, request).catalog
        assert set(sql.candidates().keys) == set(mine.candidates().keys)
        sql_history = sql.catalog.take(~sql.is_candidate)
        mine_history = mine.catalog.take(~mine.is_candidate)
        # Public history items are in the index; the others come from SQL (feed_catalog_indexed).
        assert set(mine_history.keys) <= set(sql_history.keys)
        _assert_same_facts(sql.candidates(), mine.candidates())


def test_public_window_equals_the_times_it_derives_from(city):
    """``public`` reads the window derived at the build: the same flags as comparing the
    publication, expiry and end of each row (NaN: none), at their very instants too."""
    index = current_index()
    assert index is not None
    rows = np.arange(len(index))
    times = np.concatenate([index.publish_s, index.expires_s, index.over_s])
    instants = [NOW.timestamp(), *np.random.default_rng(2).choice(times[~np.isnan(times)], 40)]
    # Each instant, a hair after and before it: the mask kept from the previous request
    # must not serve an instant on the other side of a bound.
    instants = [s for t in instants for s in (t, np.nextafter(t, np.inf), np.nextafter(t, 0))]
    for now_s in [*instants, *reversed(instants), *sorted(instants)]:
        with np.errstate(invalid="ignore"):
            expected = (
                ~(index.publish_s > now_s) & ~(index.expires_s <= now_s) & ~(index.over_s <= now_s)
            )
        assert np.array_equal(index.public(rows, now_s), expected)
        assert np.array_equal(index.public_mask(now_s), expected)
        assert not index.public_mask(now_s).flags.writeable  # shared between requests
    assert any(not index.public_mask(now_s).all() for now_s in instants)  # not all public


@pytest.mark.parametrize("personal", [False, True])
def test_index_and_sql_rank_the_same_feed(city, settings, personal):
    devices = Device.objects.filter(personalization_consent=personal).order_by("pk")[:6]
    for k, device in enumerate(devices):
        point = _points(city, 1)[0] if k % 2 == 0 else None
        settings.FEED_ITEM_INDEX = False
        sql = feed_build(device=device, point=point)
        settings.FEED_ITEM_INDEX = True
        mine = feed_build(device=device, point=point)
        assert mine.personalized is personal
        assert [*mine.refs[:20]] == [*sql.refs[:20]]
        assert set(mine.refs) == set(sql.refs)
        np.testing.assert_allclose(mine.scores, sql.scores, rtol=1e-9)


def test_index_follows_content_changes_and_time(city, time_machine):
    now = NOW + timedelta(minutes=5)
    first = current_index()
    assert first is not None and current_index() is first  # no change: the same arrays
    gone = Works.objects.filter(status="published").order_by("pk").first()
    content_archive(item=gone)
    second = current_index()
    assert second is not first
    assert second.rows_of(np.array([(1 << 40) + gone.pk]))[0] == -1
    line = works(0, 0, geometry=LineString((4.80, 45.70), (4.86, 45.76), srid=4326))
    third = current_index()
    request = CandidateRequest(now=now, point=Point(4.83, 45.73, srid=4326))
    assert (1 << 40) + line.pk in set(index_catalog(third, request).catalog.candidates().keys)
    # Time alone: an event whose every date is over leaves the candidates without a rebuild.
    event = (
        Event.objects.filter(status="published", last_end_at__gt=now)
        .order_by("last_end_at")
        .first()
    )
    later = event.last_end_at + timedelta(seconds=1)
    key = (2 << 40) + event.pk
    at_later = CandidateRequest(now=later, point=make_point(*event.geometry.centroid.coords))
    assert key not in set(index_catalog(third, at_later).catalog.candidates().keys)
    assert key not in set(feed_catalog(at_later).candidates().keys)


def test_rebuild_reuses_text_rows_of_unchanged_items(city):
    first = index_build(generation="a")
    again = index_build(generation="b", previous=first)
    assert (first.text != again.text).nnz == 0
    assert np.array_equal(first.keys, again.keys)


def test_background_rebuild_serves_the_previous_index_meanwhile(settings):
    from apps.recommend.online import item_index

    works(0, 0)
    first = current_index()
    assert first is not None and len(first) == 1
    settings.FEED_INDEX_BACKGROUND = True
    works(300, 0)  # a content change: a new generation
    assert current_index() is first  # not rebuilt in the request
    builder = item_index._builder
    assert builder is not None
    builder.join(timeout=30)
    fresh = current_index()
    assert fresh is not first and fresh.generation == item_index.generation_current()


def test_distances_to_every_geometry_kind_equal_postgis():
    """Lines, a polygon with a hole (anchors inside, in the hole, outside), multi-geometries
    and a collection: the index measures what ``LocalDistanceM`` measures in PostGIS."""
    from django.contrib.gis.geos import (
        GeometryCollection,
        MultiLineString,
        MultiPoint,
        MultiPolygon,
        Polygon,
    )

    from tests.recommend.feed_support import at

    def ring(dx, dy, half):
        (x0, y0), (x1, y1) = at(dx - half, dy - half), at(dx + half, dy + half)
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))

    shapes = [
        LineString(at(-2000, -300), at(0, 250), at(2500, 400), srid=4326),
        Polygon(ring(0, 0, 400), ring(0, 0, 150), srid=4326),  # a hole around the centre
        MultiPolygon(Polygon(ring(900, 900, 100)), Polygon(ring(-900, 700, 200)), srid=4326),
        MultiLineString(
            LineString(at(100, -800), at(600, -900)),
            LineString(at(-700, -500), at(-650, -1500)),
            srid=4326,
        ),
        MultiPoint(Point(*at(300, 300)), Point(*at(-300, -1200)), srid=4326),
        GeometryCollection(
            Point(*at(1200, 0)), LineString(at(1300, 100), at(1500, 600)), srid=4326
        ),
    ]
    made = [works(0, 0, geometry=g) for g in shapes]
    anchors = [at(0, 0), at(250, 0), at(0, 1000), at(-900, 700), at(3000, -2000)]
    index = current_index()
    request = CandidateRequest(
        now=datetime.now(UTC),
        places=[make_point(*a) for a in anchors[1:]],
        point=make_point(*anchors[0]),
        history={"works": {w.pk for w in made}},
        personal=True,
    )
    sql = feed_catalog(request).catalog
    mine = index_catalog(index, request).catalog.catalog
    a, b = _by_key(sql), _by_key(mine)
    keys = [(1 << 40) + w.pk for w in made]
    ra = np.array([a[k] for k in keys])
    rb = np.array([b[k] for k in keys])
    np.testing.assert_allclose(mine.place_distance_m[rb], sql.place_distance_m[ra], atol=1e-6)
    np.testing.assert_allclose(mine.point_distance_m[rb], sql.point_distance_m[ra], atol=1e-6)
    assert mine.point_distance_m[rb][1] > 100  # in the polygon's hole: its inner ring
    assert mine.place_distance_m[rb][1, 0] == 0.0  # inside the polygon itself
