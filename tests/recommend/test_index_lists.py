"""Content lists from the item index (``index_lists``) against the SQL path, byte for byte.

On a generated (bench) city and on hand-made geometries: the same status, body, ``ETag`` and
``Last-Modified`` for every shape the index answers (pages, taxonomy, ``near``/``radius``,
``bbox``, both languages), with fewer queries; the SQL path for everything else (other
filters, a stale index, bad values, a page past the end); content changes and time followed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.gis.geos import LineString, MultiPoint, Polygon
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.core.models import Area, Category
from apps.core.services import content_archive
from apps.events.models import Event
from apps.recommend.online import item_index
from apps.works.models import Works
from bench.city.build import CitySpec, build
from tests.factories import NewsFactory
from tests.recommend.feed_support import _tagged, at, here, news, title, works
from tests.residents.factories import published

pytestmark = [pytest.mark.django_db]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CITY = CitySpec(devices=40, items=900, interactions=500, seed=23, token_sample=5, now=NOW)


@pytest.fixture
def city(time_machine):
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    build(CITY)
    return np.random.default_rng(17)


def _get(client, settings, path, *, accelerated, **headers):
    settings.API_CACHE_SECONDS = 0  # the response cache would answer the second request
    settings.API_LIST_ACCELERATION = accelerated
    if accelerated and not settings.FEED_INDEX_BACKGROUND:
        item_index.current_index()  # lists never build it in their request (index_ready)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    return response, len(queries)


def _same(client, settings, path, **headers):
    """The SQL path's answer, then the index's twice (cold fragments, then warm): all equal."""
    sql, sql_queries = _get(client, settings, path, accelerated=False, **headers)
    answers = [_get(client, settings, path, accelerated=True, **headers) for _ in range(2)]
    for response, _queries in answers:
        assert response.status_code == sql.status_code, path
        assert response.content == sql.content, path
        for header in ("ETag", "Last-Modified", "Cache-Control", "Content-Type", "Vary"):
            assert response.get(header) == sql.get(header), (path, header)
    return sql, sql_queries, answers[1][1]


def _box(lon, lat, width_deg, height_deg):
    return f"{lon:.5f},{lat:.5f},{lon + width_deg:.5f},{lat + height_deg:.5f}"


def _shapes(rng, type_code):
    extent = Works.objects.exclude(geometry=None).values_list("geometry", flat=True)[0].extent
    lon0, lat0 = extent[0], extent[1]
    categories = list(Category.objects.values_list("slug", flat=True))
    areas = list(Area.objects.values_list("slug", flat=True))
    base = f"/api/v1/{type_code}/"
    shapes = [base, f"{base}?page=2&page_size=7", f"{base}?page_size=100"]
    for _ in range(4):
        lat, lon = lat0 + rng.normal(0, 0.02), lon0 + rng.normal(0, 0.03)
        radius = int(rng.choice([150, 800, 2500, 6000]))
        shapes += [
            f"{base}?near={lat:.5f},{lon:.5f}",
            f"{base}?near={lat:.5f},{lon:.5f}&radius={radius}&page_size=50",
            f"{base}?bbox={_box(lon, lat, rng.uniform(0.002, 0.04), rng.uniform(0.002, 0.03))}",
            f"{base}?category={rng.choice(categories)}&near={lat:.5f},{lon:.5f}&radius=3000",
            f"{base}?area={rng.choice(areas)}&page_size=30",
            f"{base}?organization=&category={rng.choice(categories)},{rng.choice(categories)}",
            f"{base}?bbox={_box(lon, lat, 0.05, 0.04)}&area={rng.choice(areas)}&page=2",
        ]
    return shapes


@pytest.mark.parametrize("type_code", ["news", "works", "events"])
def test_index_lists_equal_the_sql_lists_on_a_generated_city(city, settings, type_code):
    client = Client()
    fewer = asked = 0
    for path in _shapes(city, type_code):
        for language in ("fr", "en"):
            sql, sql_queries, index_queries = _same(
                client, settings, path, HTTP_ACCEPT_LANGUAGE=language
            )
            assert sql.status_code in (200, 404), (path, sql.content[:300])  # 404: past the end
            if sql.status_code == 200:
                # Warm fragments: no SQL; ``near``, one statement in the rare case where
                # PostGIS must give a distance (``geography.undecided``).
                assert index_queries <= (1 if "near=" in path else 0), path
                fewer += index_queries < sql_queries
                asked += index_queries
    assert fewer >= 50
    assert asked <= 2  # of 32 ``near`` answers


def test_a_304_comes_from_the_index_without_sql(city, settings):
    client = Client()
    sql, _queries, _index = _same(client, settings, "/api/v1/works/?page_size=5")
    response, queries = _get(
        client, settings, "/api/v1/works/?page_size=5", accelerated=True,
        HTTP_IF_NONE_MATCH=sql["ETag"],
    )  # fmt: skip
    assert response.status_code == 304 and queries == 0
    assert response["ETag"] == sql["ETag"]


def test_what_the_index_does_not_answer_goes_to_sql_with_the_same_errors(city, settings):
    client = Client()
    for path in (
        "/api/v1/news/?category=no-such-category",  # 400 from the form
        "/api/v1/news/?radius=500",  # radius without near: 400
        "/api/v1/works/?near=91,4",  # 400
        "/api/v1/works/?bbox=4.9,45.7,4.8,45.8",  # min above max: 400
        "/api/v1/events/?page=400",  # past the end: 404
        "/api/v1/events/?q=concert",  # search: SQL
        "/api/v1/news/?ordering=publish_at",  # another order: SQL
        "/api/v1/news/?page_size=3&page_size=4",  # repeated: SQL decides
        "/api/v1/works/?format=geojson",  # GeoJSON is rendered live
    ):
        _sql, sql_queries, index_queries = _same(client, settings, path)
        assert index_queries == sql_queries, path  # the same path answered both
    assert _same(client, settings, "/api/v1/news/?category=no-such-category")[0].status_code == 400


def test_a_stale_index_is_not_used(city, settings):
    client = Client()
    _same(client, settings, "/api/v1/works/")
    settings.FEED_INDEX_BACKGROUND = True  # a rebuild in a thread while requests go on
    gone = Works.objects.filter(status="published").order_by("-publish_at", "-pk").first()
    content_archive(item=gone)  # a new generation: the index in memory is stale
    index = item_index._current
    assert index is not None and index.generation != item_index.generation_current()
    response, _queries = _get(client, settings, "/api/v1/works/", accelerated=True)
    assert gone.pk not in [item["id"] for item in response.json()["results"]]
    builder = item_index._builder
    assert builder is not None
    builder.join(timeout=60)  # its own connection: outside this test's transaction
    item_index.index_forget()
    settings.FEED_INDEX_BACKGROUND = False
    _same(client, settings, "/api/v1/works/")


def test_changes_and_time_are_followed(city, settings, time_machine):
    client = Client()
    _same(client, settings, "/api/v1/news/?page_size=100")
    fresh = news(0, 0)
    body = _same(client, settings, "/api/v1/news/")[0].json()
    assert body["results"][0]["id"] == fresh.pk
    # Time alone, no rebuild: a news item expires, an event's next date ends.
    expiring = news(10, 10, expires_at=NOW + timedelta(hours=1))
    before = _same(client, settings, "/api/v1/news/?page_size=100")[0]
    time_machine.move_to(expiring.expires_at + timedelta(seconds=1), tick=False)
    after = _same(client, settings, "/api/v1/news/?page_size=100")[0]
    assert after.json()["count"] == before.json()["count"] - 1
    assert after["ETag"] != before["ETag"]
    index = item_index._current
    _same(client, settings, "/api/v1/events/?page_size=100")
    soonest = Event.objects.public().order_by("last_end_at").first()
    time_machine.move_to(soonest.last_end_at + timedelta(seconds=1), tick=False)
    gone = _same(client, settings, "/api/v1/events/?page_size=100")[0].json()["results"]
    assert soonest.pk not in [item["id"] for item in gone]
    assert item_index._current is index  # no rebuild for time


def _area_news(geometry):
    return _tagged(published(NewsFactory(geometry=geometry, title_fr=title())))


def test_geometry_edge_cases_equal_postgis(settings, time_machine):
    """A line crossing a box with no vertex in it, a line whose box overlaps but which
    misses, a polygon around the whole box, one with the box in its hole, multipoints whose
    box overlaps, and items around the radius of ``near``."""

    def ring(dx, dy, half):
        (x0, y0), (x1, y1) = at(dx - half, dy - half), at(dx + half, dy + half)
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))

    crossing = works(geometry=LineString(at(-500, -50), at(500, 50), srid=4326))
    missing = works(geometry=LineString(at(-500, 400), at(-100, 800), srid=4326))
    around = _area_news(Polygon(ring(0, 0, 2000), srid=4326))
    hollow = _area_news(Polygon(ring(0, 0, 2000), ring(0, 0, 900), srid=4326))
    client = Client()
    (x0, y0), (x1, y1) = at(-200, -200), at(200, 200)
    box = f"{x0},{y0},{x1},{y1}"
    works_ids = [
        i["id"] for i in _same(client, settings, f"/api/v1/works/?bbox={box}")[0].json()["results"]
    ]
    assert crossing.pk in works_ids and missing.pk not in works_ids
    news_ids = [
        i["id"] for i in _same(client, settings, f"/api/v1/news/?bbox={box}")[0].json()["results"]
    ]
    assert around.pk in news_ids and hollow.pk not in news_ids
    # Points around 1,000 m from here: PostGIS decides the ones near the edge.
    ring_ids = [
        news(metres * np.cos(k), metres * np.sin(k)).pk
        for k, metres in enumerate((985, 995, 999, 1001, 1005, 1015, 1500))
    ]
    point = here()
    path = f"/api/v1/news/?near={point.y},{point.x}&radius=1000&page_size=100"
    body = _same(client, settings, path)[0].json()
    assert all(item["distance_m"] <= 1000 for item in body["results"])
    found = {item["id"] for item in body["results"]}
    assert set(ring_ids[:2]) <= found and ring_ids[-1] not in found
    # A multipoint whose box overlaps: its points are tested one by one.
    inside = works(geometry=MultiPoint(here(0, 0), here(600, 600), srid=4326))
    outside = works(geometry=MultiPoint(here(-600, 0), here(600, 600), srid=4326))
    sql, _sql_queries, index_queries = _same(client, settings, f"/api/v1/works/?bbox={box}")
    ids = [item["id"] for item in sql.json()["results"]]
    assert inside.pk in ids and outside.pk not in ids and index_queries == 0


def test_feed_page_versions_equal_the_sql_statement(city, settings, time_machine):
    """The feed's page facts from the index (``page_versions``) are the refs statement's:
    which refs are public now (a few are not: drafts, expired, archived), their ``updated_at``
    and their distance to the point, for points, lines and polygons; one hour on, too."""
    from apps.core.api.item_refs import refs_fetch
    from apps.core.geo import point as make_point
    from apps.core.registry import content_models
    from apps.recommend.online.index_lists import page_versions

    expiring = news(50, 50, expires_at=NOW + timedelta(minutes=35))  # public, then not
    item_index.current_index()
    refs = [
        (type_code, pk)
        for type_code, model in content_models().items()
        for pk in model.objects.order_by("?").values_list("pk", flat=True)[:120]
    ] + [("news", expiring.pk)]
    rng = city
    extent = Works.objects.exclude(geometry=None).values_list("geometry", flat=True)[0].extent
    compared = 0
    for hours in (0, 1):
        time_machine.move_to(NOW + timedelta(minutes=5, hours=hours), tick=False)
        if hours:
            item_index.current_index()  # the same generation: nothing changed but the time
        for _ in range(4):
            lon = extent[0] + rng.normal(0, 0.03)
            lat = extent[1] + rng.normal(0, 0.02)
            now_s = datetime.now(UTC).timestamp()
            ours = page_versions(refs, (lon, lat), now_s)
            if ours is None:  # a distance PostGIS must give: rare, never twice in a row
                continue
            sql = refs_fetch(refs, near=make_point(lon, lat))
            for ref, version in zip(refs, ours, strict=True):
                expected = sql.get(ref)
                assert (version is None) == (expected is None), ref
                if version is None:
                    continue
                assert version.updated_at == expected.updated_at, ref
                if expected.distance_m is None:
                    assert version.distance_m is None, ref
                else:
                    assert abs(version.distance_m - expected.distance_m) <= 1e-7, ref
                    assert round(version.distance_m) == round(expected.distance_m), ref
                compared += 1
    assert compared > 1000
    hidden = sum(v is None for v in page_versions(refs, None, now_s) or [])
    assert 0 < hidden < len(refs)  # some refs are not public: the comparison saw both kinds
    assert page_versions([("news", -1)], None, now_s) is None  # not in the index: SQL


def test_page_versions_read_at_the_generation_the_request_ranked_at(city):
    """A page ranked in this request reads the index at the generation read for the ranking
    (``generation=``, no second read); without it, at the one read now: after a change, the
    index is behind it and the SQL statement answers (``None``)."""
    from django.core.cache import cache

    from apps.recommend.online.index_lists import page_versions

    index = item_index.current_index()
    assert index is not None
    refs = [("news", int(pk)) for pk in index.item_id[index.item_type == 0][:5]]
    now_s = (NOW + timedelta(minutes=5)).timestamp()
    first = page_versions(refs, None, now_s)
    assert first is not None and any(first)
    cache.set(item_index.GENERATION_KEY, "changed-since", None)  # another process's write
    assert page_versions(refs, None, now_s) is None
    assert page_versions(refs, None, now_s, generation=index.generation) == first
