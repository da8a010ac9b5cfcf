"""Pre-rendered item JSON: byte-identical to live serialization, current, and never wrong."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
import time_machine
from django.conf import settings
from django.contrib.gis.geos import LineString
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from apps.core.api.fragments import (
    GENERATION_KEY,
    RENDER_ITEMS_MAX,
    encode_json,
    fragments_invalidate,
    fragments_render_items,
    items_render,
    items_versions,
    serializer_version,
)
from apps.core.api.items import items_fetch, list_item_serializer, serialize_items
from apps.core.geo import point
from apps.core.models import Area, Category
from apps.core.prepared import bigint_array, run_prepared
from apps.core.services import content_archive, content_save, content_unpublish
from apps.core.signals import contents_saved
from apps.events.models import EventOccurrence, Venue
from apps.news.models import News
from apps.works.services import works_create_many
from testing.pushworker import celery_broker
from tests.api_support import published_event, published_news, published_works
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    AreaFactory,
    NewsFactory,
    VenueFactory,
    WorksFactory,
)

pytestmark = pytest.mark.django_db

NEAR = {"near": f"{CENTRE_LAT},{CENTRE_LON}", "radius": 5000}
LIVE = {"API_FRAGMENT_SECONDS": 0, "API_CACHE_SECONDS": 0}
BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")


def _get(path, params=None, language="fr"):
    return APIClient().get(path, params or {}, HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def content(mobility, city, centre):
    """One item of each type with what their JSON embeds: translations, venue, image text,
    a long line, an offer price, several occurrences, JavaScript line separators."""
    news = published_news(
        title_fr="Fête des voisins\u2028ligne",
        title_en="Neighbours' party",
        summary_fr='Résumé « guillemets » \\ et "quotes"',
        image_alt_fr="Une place",
        category=mobility,
        organization=city,
    )
    works = published_works(
        title_fr="Réfection de chaussée",
        title_en="Road resurfacing",
        category=mobility,
        organization=city,
        geometry=LineString(
            (CENTRE_LON, CENTRE_LAT),
            (CENTRE_LON + 0.0031234567, CENTRE_LAT + 0.0011),
            (CENTRE_LON + 0.006, CENTRE_LAT - 0.002),
            srid=4326,
        ),
    )
    start = timezone.now() + timedelta(days=1)
    event = published_event(
        title_fr="Concert d'été",
        title_en="Summer concert",
        venue=VenueFactory(name="Salle des fêtes"),
        start_at=start,
        end_at=start + timedelta(hours=2),
        rrule="FREQ=WEEKLY;COUNT=3",
        price_min=Decimal("12.50"),
        is_free=False,
        category=mobility,
        organization=city,
    )
    return {"news": news, "works": works, "events": event}


def _live(path, params, language):
    with override_settings(**LIVE):
        return _get(path, params, language)


@override_settings(API_CACHE_SECONDS=0)
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("type_code", ["news", "works", "events"])
def test_fragment_path_is_byte_identical_to_live_serialization(content, type_code, language):
    item = content[type_code]
    cases = [
        (f"/api/v1/{type_code}/", {}),
        (f"/api/v1/{type_code}/", NEAR),
        (f"/api/v1/{type_code}/", {**NEAR, "ordering": "distance", "page_size": 1}),
        (f"/api/v1/{type_code}/{item.pk}/", {}),
    ]
    for path, params in cases:
        live = _live(path, params, language)
        cold = _get(path, params, language)  # renders and stores the fragments
        warm = _get(path, params, language)  # splices the stored fragments
        assert live.status_code == cold.status_code == warm.status_code == 200
        assert cold.content == live.content, path
        assert warm.content == live.content, path
        assert warm["ETag"] == live["ETag"]
    geojson = _get(f"/api/v1/{type_code}/", {"format": "geojson"}, language)
    assert geojson.json()["features"][0]["id"] == item.pk  # GeoJSON is rendered live


@pytest.mark.parametrize("language", ["fr", "en"])
def test_feed_renderer_is_byte_identical_to_serialize_items(content, language):
    refs = [("events", content["events"].pk), ("news", content["news"].pk)]
    refs.append(("works", content["works"].pk))
    near = point(CENTRE_LON + 0.01, CENTRE_LAT)
    from django.utils import translation

    with translation.override(language):
        expected = [JSONRenderer().render(d) for d in serialize_items(items_fetch(refs, near=near))]
    cold = items_render(refs, language=language, near=(CENTRE_LON + 0.01, CENTRE_LAT))
    warm = items_render(refs, language=language, near=(CENTRE_LON + 0.01, CENTRE_LAT))
    assert [r.json() for r in cold] == expected
    assert [r.json() for r in warm] == expected
    assert all(r.hit for r in warm) and not any(r.hit for r in cold)
    assert warm[0].category_name == ("Mobilité" if language == "fr" else "Mobility")
    assert warm[0].organization_id == content["events"].organization_id


def test_warm_feed_page_runs_one_statement_and_drops_items_no_longer_public(
    content, django_assert_num_queries
):
    refs = [(t, content[t].pk) for t in ("news", "works", "events")]
    items_render(refs, language="fr")
    with django_assert_num_queries(1):
        warm = items_render(refs, language="fr")
    assert [r.id for r in warm] == [content[t].pk for t in ("news", "works", "events")]
    content_archive(item=content["news"])
    with django_assert_num_queries(1):
        after = items_render(refs, language="fr")
    assert after[0] is None and after[1] is not None


def test_items_versions_reads_distances_like_the_live_annotation(content):
    near = point(CENTRE_LON + 0.02, CENTRE_LAT + 0.01)
    refs = [(t, content[t].pk) for t in ("news", "works", "events")]
    versions = items_versions(refs, near=near)
    items = items_fetch(refs, near=near)
    assert [round(v.distance_m) for v in versions] == [round(i.distance_m) for i in items]
    assert [v.updated_at for v in versions] == [i.updated_at for i in items]
    assert items_versions([("news", 10**12)]) == [None]


def test_a_current_fragment_is_served_without_serializing(content):
    """Proof that warm responses come from the store: a change that bypasses the services (and
    so moves no version) is not seen, while one through the services is."""
    news = content["news"]
    with override_settings(API_CACHE_SECONDS=0):
        assert _get("/api/v1/news/")["X-Fragments"] == "0/1"
        assert _get("/api/v1/news/")["X-Fragments"] == "1/1"
        News.objects.filter(pk=news.pk).update(title_fr="Changé en douce")
        assert _get("/api/v1/news/").json()["results"][0]["title"].startswith("Fête")
        news.refresh_from_db()
        news.title_fr = "Changé par le service"
        content_save(item=news)
        assert _get("/api/v1/news/").json()["results"][0]["title"] == "Changé par le service"
        assert _get(f"/api/v1/news/{news.pk}/").json()["title"] == "Changé par le service"


@override_settings(API_CACHE_SECONDS=0)
def test_taxonomy_rename_makes_every_fragment_stale(content, mobility, city):
    for type_code in ("news", "works", "events"):
        _get(f"/api/v1/{type_code}/")
        _get(f"/api/v1/{type_code}/{content[type_code].pk}/")
    Category.objects.filter(pk=mobility.pk).update(name_fr="Déplacements")
    mobility.refresh_from_db()
    mobility.save()  # post_save: the rename
    city.name = "Ville renommée"
    city.save()
    for type_code in ("news", "works", "events"):
        listed = _get(f"/api/v1/{type_code}/").json()["results"][0]
        detail = _get(f"/api/v1/{type_code}/{content[type_code].pk}/").json()
        for data in (listed, detail):
            assert data["category"]["name"] == "Déplacements"
            assert data["organization"]["name"] == "Ville renommée"


@override_settings(API_CACHE_SECONDS=0)
def test_venue_and_area_edits_reach_events_and_details(content, centre):
    event = content["events"]
    _get("/api/v1/events/")
    _get(f"/api/v1/events/{event.pk}/")
    venue = Venue.objects.get(pk=event.venue_id)
    venue.name = "Nouvelle salle"
    venue.save()
    assert _get("/api/v1/events/").json()["results"][0]["venue"]["name"] == "Nouvelle salle"
    area = Area.objects.get(pk=centre.pk)
    area.name = "Centre-ville"
    area.save()
    detail = _get(f"/api/v1/events/{event.pk}/").json()
    assert detail["venue"]["name"] == "Nouvelle salle"
    assert [a["name"] for a in detail["areas"]] == ["Centre-ville"]
    AreaFactory(slug="nouvelle")  # creating embeds nothing: the generation stays
    generation = cache.get(GENERATION_KEY.format(type="news"))
    AreaFactory(slug="autre")
    assert cache.get(GENERATION_KEY.format(type="news")) == generation


@override_settings(API_CACHE_SECONDS=0)
def test_a_fragment_embedding_the_next_occurrence_ends_with_it(content):
    event = content["events"]
    occurrences = list(EventOccurrence.objects.filter(event=event).order_by("start_at"))
    assert len(occurrences) == 3
    first = _get("/api/v1/events/").json()["results"][0]
    assert first["next_end_at"] == _iso(occurrences[0].end_at)
    with time_machine.travel(occurrences[0].end_at + timedelta(minutes=1)):
        later = _get("/api/v1/events/").json()["results"][0]
        detail = _get(f"/api/v1/events/{event.pk}/").json()
    assert later["next_start_at"] == _iso(occurrences[1].start_at)
    assert detail["next_start_at"] == _iso(occurrences[1].start_at)


def _iso(moment):
    from rest_framework.fields import DateTimeField

    return DateTimeField().to_representation(moment)


@override_settings(API_CACHE_SECONDS=0)
def test_a_release_with_another_serializer_never_reads_older_fragments(content, monkeypatch):
    _get("/api/v1/news/")
    News.objects.filter(pk=content["news"].pk).update(title_fr="Nouvelle version")
    from apps.core.api import fragment_store

    serializer = list_item_serializer("news")
    monkeypatch.setitem(
        fragment_store._VERSIONS, (serializer, fragment_store.site_url()), "another-release"
    )
    assert serializer_version(serializer) == "another-release"
    assert _get("/api/v1/news/").json()["results"][0]["title"] == "Nouvelle version"


@override_settings(API_CACHE_SECONDS=0)
@pytest.mark.parametrize(
    "garbage", [b"", b"no header", b"[1]\n{}", b"not json\n{}", b'["x"]\n{}'], ids=repr
)
def test_a_foreign_or_damaged_value_is_a_miss(content, garbage):
    live = _live("/api/v1/news/", {}, "fr")
    keys = [k for k in cache._cache if ":frag:l:news:" in k]  # type: ignore[attr-defined]
    if not keys:
        _get("/api/v1/news/")
        keys = [k for k in cache._cache if ":frag:l:news:" in k]  # type: ignore[attr-defined]
    for key in keys:
        cache.set(key.removeprefix(":1:"), garbage)
    assert _get("/api/v1/news/").content == live.content


@override_settings(
    API_CACHE_SECONDS=0,
    CACHES={
        "default": {
            "BACKEND": "apps.core.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:6379/5",
        }
    },
)
def test_on_redis_with_mget_and_when_redis_is_down(content, django_assert_num_queries):
    cache.clear()
    live = _live("/api/v1/works/", NEAR, "fr")
    assert _get("/api/v1/works/", NEAR).content == live.content
    refs = [(t, content[t].pk) for t in ("news", "works", "events")]
    items_render(refs, language="fr")
    with django_assert_num_queries(1):
        warm = items_render(refs, language="fr")
    assert all(r.hit for r in warm)
    cache.clear()
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "apps.core.cache.FailOpenRedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            }
        }
    ):
        down = _get("/api/v1/works/", NEAR)
        assert down.status_code == 200 and down.content == live.content
        assert [r.json() for r in items_render(refs, language="fr")] == [r.json() for r in warm]


def test_render_fragments_command_prints_progress_and_fills_the_store(content, capsys):
    call_command("render_fragments", "--batch", "1")
    out = capsys.readouterr().out
    assert "news fr: 1/1" in out and "events en: 1/1" in out
    assert "6 fragments written" in out
    call_command("render_fragments")
    assert "0 fragments written" in capsys.readouterr().out  # all current
    refs = [(t, content[t].pk) for t in ("news", "works", "events")]
    assert all(r.hit for r in items_render(refs, language="en"))


def test_render_fragments_refuses_unknown_arguments():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="unknown type"):
        call_command("render_fragments", "--type", "bogus")
    with pytest.raises(CommandError, match="unknown language"):
        call_command("render_fragments", "--language", "de")
    with pytest.raises(CommandError, match="batch"):
        call_command("render_fragments", "--batch", "0")


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1e-07, "b": 1e16, "c": -0.0001, "d": 123.4567891},
        {"s": '\u2028\u2029\x00\x1f\x7f é "\\'},
        [1, 2**63, -(2**63), True, None, 0.0, 2.5],
    ],
    ids=["floats", "strings", "ints"],
)
def test_encode_json_matches_drf(value):
    assert encode_json(value) == JSONRenderer().render(value)


def test_id_lists_are_bigint_arrays_so_one_statement_is_prepared_per_text():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    sql = "SELECT count(*) FROM unnest(%s) AS t WHERE t = ANY(%s::bigint[]) OR %s IS NULL"
    for ids in ([1, 2], [70_000], [2**40], []):
        run_prepared(connection, sql, [ids, bigint_array(ids), 1])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parameter_types::text FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%unnest($1)%"],
        )
        rows = cursor.fetchall()
    assert rows == [("{bigint[],bigint[],bigint}",)]


@override_settings(API_CACHE_SECONDS=0)
def test_a_current_detail_fragment_costs_one_query(content, django_assert_num_queries):
    path = f"/api/v1/events/{content['events'].pk}/"
    with django_assert_num_queries(4):  # version, the item, its areas and occurrences: as live
        cold = _get(path)
    with django_assert_num_queries(1):  # version only
        warm = _get(path)
    assert warm.content == cold.content and warm["X-Fragments"] == "1/1"


def test_a_page_read_before_a_taxonomy_change_is_stored_stale_not_wrong(content):
    """Rows read, then a rename commits (generation bumped), then the misses are stored: they
    go under the generation read before the rows, so the next request renders them again."""
    from apps.core.api.fragments import ItemVersion, fragment_generations, render_rows

    news = content["news"]
    before = fragment_generations(["news"])
    rows = [ItemVersion("news", news.pk, news.updated_at)]
    items = items_fetch([("news", news.pk)])
    fragments_invalidate(["news"])  # the rename's bump, between the read and the store
    (first,) = render_rows(rows, lambda positions: items, generations=before)
    assert not first.hit
    (again,) = render_rows(
        rows, lambda positions: items, generations=fragment_generations(["news"])
    )
    assert not again.hit  # the fragment stored under the older generation was not served
    (third,) = render_rows(
        rows, lambda positions: items, generations=fragment_generations(["news"])
    )
    assert third.hit


def test_a_rename_re_renders_every_fragment_in_the_background(
    content, mobility, django_capture_on_commit_callbacks
):
    refs = [(t, content[t].pk) for t in ("news", "works", "events")]
    items_render(refs, language="fr")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mobility.name_fr = "Déplacements"
        mobility.save()
    assert callbacks  # the generation bump and the re-render task (eager here)
    rendered = items_render(refs, language="fr")
    assert all(r.hit for r in rendered)  # rendered again by the task, not by this request
    assert {r.category_name for r in rendered} == {"Déplacements"}


# --- rendered when published or edited -----------------------------------------------------


def _stored_lists():
    """The list fragments in the store (the tests' local-memory cache): key → stored value."""
    return {k: v for k, v in cache._cache.items() if ":frag:l:" in k}  # type: ignore[attr-defined]


def _stored_languages(type_code, pk):
    return sorted(k.rsplit(":", 1)[1] for k in _stored_lists() if f":{type_code}:{pk}:" in k)


def _title(rendered):
    return json.loads(rendered.json())["title"]


@override_settings(API_CACHE_SECONDS=0)
def test_a_published_item_is_rendered_in_every_language_before_its_first_read(
    mobility, city, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        news = published_news(
            title_fr="Marché de Noël", title_en="Christmas market", category=mobility
        )
    assert _stored_languages("news", news.pk) == sorted(c for c, _n in settings.LANGUAGES)
    stored = _stored_lists()
    for language, title in (("fr", "Marché de Noël"), ("en", "Christmas market")):
        response = _get("/api/v1/news/", language=language)
        assert response["X-Fragments"] == "1/1"
        assert response.json()["results"][0]["title"] == title
        (rendered,) = items_render([("news", news.pk)], language=language)
        assert rendered.hit and _title(rendered) == title
    assert _stored_lists() == stored  # the reads stored nothing


@override_settings(API_CACHE_SECONDS=0)
def test_an_edit_is_rendered_again_before_the_next_read(
    mobility, django_capture_on_commit_callbacks
):
    news = published_news(title_fr="Fête des voisins", category=mobility)  # on-commit not run
    (first,) = items_render([("news", news.pk)], language="fr")
    assert not first.hit  # nothing rendered it: this read did, and stored it
    news.title_fr = "Fête des voisins reportée"
    with django_capture_on_commit_callbacks(execute=True):
        content_save(item=news)
    (rendered,) = items_render([("news", news.pk)], language="fr")
    assert rendered.hit and _title(rendered) == "Fête des voisins reportée"
    response = _get("/api/v1/news/")
    assert response["X-Fragments"] == "1/1"
    assert response.json()["results"][0]["title"] == "Fête des voisins reportée"


@pytest.mark.parametrize("leave", [content_archive, content_unpublish], ids=lambda f: f.__name__)
def test_an_item_that_is_not_public_renders_nothing(
    leave, mobility, caplog, django_capture_on_commit_callbacks
):
    news = published_news(category=mobility)  # on-commit not run: nothing rendered
    draft = NewsFactory.build(category=mobility, organization=news.organization)
    with caplog.at_level("WARNING"), django_capture_on_commit_callbacks(execute=True) as calls:
        content_save(item=draft)
        leave(item=news)
    assert calls  # the renders ran (eagerly here)
    assert "could not enqueue" not in caplog.text  # and did not fail
    assert _stored_lists() == {}
    assert fragments_render_items("news", [news.pk, draft.pk, 10**12]) == 0
    assert fragments_render_items("not-a-type", [news.pk]) == 0


def test_a_bulk_import_renders_all_its_items(mobility, city, django_capture_on_commit_callbacks):
    rows = [(WorksFactory.build(category=mobility, title_fr=f"Chantier {n}"), []) for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        created = works_create_many(rows=rows, organization=city, publish_at=timezone.now())
    for works in created:
        assert _stored_languages("works", works.pk) == ["en", "fr"]
    refs = [("works", works.pk) for works in created]
    rendered = items_render(refs, language="fr")
    assert all(r.hit for r in rendered)
    assert [_title(r) for r in rendered] == ["Chantier 0", "Chantier 1", "Chantier 2"]
    assert fragments_render_items("works", [w.pk for w in created]) == 0  # all current


def _queued_renders(app):
    """The ``(type, ids)`` of the render tasks waiting in the broker's default queue."""
    client = redis.Redis.from_url(app.conf.broker_url)
    messages = [json.loads(raw) for raw in client.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)]
    client.close()
    return sorted(
        tuple(json.loads(base64.b64decode(m["body"]))[0])
        for m in messages
        if m["headers"]["task"] == "apps.core.tasks.fragments_render_items"
    )


def test_a_big_batch_is_queued_in_tasks_of_bounded_size(django_capture_on_commit_callbacks):
    ids = list(range(1, 2 * RENDER_ITEMS_MAX + 2))
    with celery_broker(BROKER_URL) as app:
        with django_capture_on_commit_callbacks(execute=True):
            contents_saved.send(sender=News, item_type="news", item_ids=ids[::-1] + ids[:3])
        queued = _queued_renders(app)
    assert [len(chunk) for _type, chunk in queued] == [RENDER_ITEMS_MAX, RENDER_ITEMS_MAX, 1]
    assert {t for t, _chunk in queued} == {"news"}
    assert sorted(i for _type, chunk in queued for i in chunk) == ids  # each id once


@override_settings(API_CACHE_SECONDS=0)
def test_with_the_broker_down_the_save_succeeds_and_readers_render(
    mobility, caplog, django_capture_on_commit_callbacks
):
    with (
        celery_broker("redis://127.0.0.1:1/0", flush=False),  # nothing listens on port 1
        caplog.at_level("WARNING"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        news = published_news(title_fr="Vide-grenier", category=mobility)
    assert "could not enqueue the fragments render of saved items" in caplog.text
    assert News.objects.get(pk=news.pk).title_fr == "Vide-grenier"
    assert _stored_lists() == {}
    assert _get("/api/v1/news/")["X-Fragments"] == "0/1"  # rendered on demand, as before
    assert _get("/api/v1/news/")["X-Fragments"] == "1/1"


@override_settings(API_FRAGMENT_SECONDS=0, API_CACHE_SECONDS=0)
def test_with_fragments_off_nothing_is_queued(mobility, django_capture_on_commit_callbacks):
    with celery_broker(BROKER_URL) as app:
        with django_capture_on_commit_callbacks(execute=True):
            news = published_news(category=mobility)
            news.title_fr = "Modifié"
            content_save(item=news)
            contents_saved.send(sender=News, item_type="news", item_ids=[news.pk])
        assert _queued_renders(app) == []
    assert _stored_lists() == {}
