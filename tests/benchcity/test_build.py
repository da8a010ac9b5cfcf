"""The bench city: counts, reproducibility from the seed, the data rules, and the public API."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from rest_framework.test import APIClient

from apps.core.geo import point, within_m
from apps.core.models import Area
from apps.core.services import content_areas_refresh
from apps.events.models import Event, EventOccurrence
from apps.events.services import event_expand
from apps.news.models import News
from apps.recommend.codes import Action, Context, ItemType
from apps.recommend.models import Interaction
from apps.residents.models import AreaFollow, CategoryFollow, Device, OrganizationFollow, Place
from apps.residents.rounding import snap_coordinates
from apps.residents.tokens import device_token_hash
from apps.works.models import Works
from apps.works.services import _status_for_dates
from bench.city.build import CitySpec, build, reset_tables

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SMALL = CitySpec(devices=300, items=200, interactions=2000, seed=7, token_sample=50, now=NOW)


@pytest.fixture
def small_city(tmp_path, time_machine):
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    manifest = tmp_path / "city.json"
    report = build(SMALL, manifest_path=manifest)
    return report, json.loads(manifest.read_text())


def digests() -> dict[str, str]:
    """An MD5 of every row of every table the bench city writes, in id order."""
    out = {}
    with connection.cursor() as cursor:
        for table in reset_tables():
            cursor.execute(
                "SELECT md5(COALESCE(string_agg(t::text, '|' ORDER BY t.id), '')) "
                f'FROM "{table}" t'
            )
            out[table] = cursor.fetchone()[0]
    return out


def test_bench_city_counts(small_city):
    report, manifest = small_city
    assert Device.objects.count() == 300
    assert (News.objects.count(), Works.objects.count(), Event.objects.count()) == (50, 70, 80)
    assert Interaction.objects.count() == 2000
    assert Area.objects.filter(kind="district").count() == 20
    per_device = Place.objects.values("device").annotate(n=Count("id"))
    assert {row["n"] for row in per_device} <= {1, 2, 3} and len(per_device) == 300
    interests = {pk: 0 for pk in Device.objects.values_list("pk", flat=True)}
    for model in (CategoryFollow, AreaFollow, OrganizationFollow):
        for device_id in model.objects.values_list("device_id", flat=True):
            interests[device_id] += 1
    assert set(interests.values()) <= set(range(2, 7))
    assert report.counts["residents_device"] == 300
    assert len(manifest["devices"]) == 50
    assert manifest["counts"] == {"devices": 300, "items": 200, "interactions": 2000}
    assert sorted(manifest["items"]) == ["events", "news", "works"]
    assert sum(len(ids) for ids in manifest["items"].values()) == 200


def test_bench_city_is_reproducible_from_its_seed(tmp_path, time_machine):
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    build(SMALL, reset=True)  # reset: identities restart, as in a fresh database
    first = digests()
    build(SMALL, reset=True)
    assert digests() == first
    build(replace(SMALL, seed=8), reset=True)
    changed = digests()
    assert changed["residents_device"] != first["residents_device"]
    assert changed["news_news"] != first["news_news"]


def test_everything_is_live_and_follows_the_content_rules(small_city):
    assert News.objects.public().count() == 50
    assert Works.objects.public().count() == 70
    assert Event.objects.public().count() == 80
    week = NOW + timedelta(days=7)
    assert Works.objects.public(at=week).count() == 70  # nothing ends within a week
    for works in Works.objects.all():
        assert works.work_status == _status_for_dates(works, NOW)
    assert Works.objects.filter(geometry__isnull=False).count() == 70
    kinds = [works.geometry.geom_type for works in Works.objects.all()]
    assert set(kinds) <= {"LineString", "Polygon", "Point"}
    assert kinds.count("LineString") > 40
    for event in Event.objects.filter(rrule__gt="")[:5]:
        stored = list(
            event.occurrences.order_by("start_at").values_list("start_at", "end_at", "origin")
        )
        spans = event_expand(start_at=event.start_at, end_at=event.end_at, rrule=event.rrule)
        assert [(s, e) for s, e, _o in stored] == spans
        assert [o for _s, _e, o in stored] == ["main"] + ["rule"] * (len(spans) - 1)
        assert event.last_end_at == spans[-1][1]
    assert EventOccurrence.objects.count() >= 80


def test_areas_are_those_the_service_computes(small_city):
    for model in (News, Works, Event):
        for item in model.objects.filter(geometry__isnull=False).order_by("pk")[:10]:
            stored = set(item.areas.values_list("pk", flat=True))
            assert stored and any(a.kind == "commune" for a in item.areas.all())
            assert {a.pk for a in content_areas_refresh(item=item)} == stored
    assert not News.objects.filter(geometry__isnull=True, areas__isnull=False).exists()


def test_residents_follow_the_residents_rules(small_city):
    _report, manifest = small_city
    for place in Place.objects.all()[:200]:
        assert snap_coordinates(place.location.x, place.location.y) == (
            place.location.x,
            place.location.y,
        )
        assert Place.RADIUS_MIN_M <= place.radius_m <= Place.RADIUS_MAX_M
    tokens = Device.objects.exclude(push_token=None).values_list("push_token", flat=True)
    assert len(set(tokens)) == len(tokens) > 200
    assert set(Device.objects.values_list("language", flat=True)) == {"fr", "en"}
    assert Device.objects.filter(quiet_hours_start__isnull=False).exists()
    for entry in manifest["devices"]:
        device = Device.objects.get(pk=entry["id"])
        assert device.token_hash == device_token_hash(entry["token"])
        assert device.personalization_consent == entry["personalization"]
    assert sum(e["personalization"] for e in manifest["devices"]) >= 35  # 80 % consenting


def test_interaction_log_is_valid(small_city):
    log = Interaction.objects.all()
    assert not log.filter(device__personalization_consent=False).exists()
    assert set(log.values_list("item_type", flat=True)) <= set(ItemType.values)
    assert set(log.values_list("action", flat=True)) <= set(Action.values)
    assert set(log.values_list("context", flat=True)) <= set(Context.values)
    oldest = NOW - timedelta(days=settings.RETENTION_DAYS)
    assert not log.filter(at__lt=oldest).exists() and not log.filter(at__gt=NOW).exists()
    assert log.values("event_id").distinct().count() == 2000
    models = {ItemType.NEWS: News, ItemType.WORKS: Works, ItemType.EVENTS: Event}
    for row in log.order_by("?")[:100]:
        item = models[row.item_type].objects.get(pk=row.item_id)
        assert row.at >= item.publish_at
    counts = sorted(
        log.values("item_type", "item_id").annotate(n=Count("id")).values_list("n", flat=True),
        reverse=True,
    )
    assert counts[0] >= 10 * counts[len(counts) // 2]  # Zipf-like: a few items take most


def test_the_city_is_served_by_the_public_api(small_city):
    _report, manifest = small_city
    client = APIClient()
    assert client.get("/api/v1/events/").json()["count"] == 80
    assert client.get("/api/v1/areas/", {"kind": "district"}).json()["count"] == 20
    place = next(e["places"][0] for e in manifest["devices"] if e["places"])
    lon, lat = place
    near = client.get("/api/v1/works/", {"near": f"{lat},{lon}", "radius": 3000})
    expected = within_m(Works.objects.public(), point(lon, lat), 3000).count()
    assert near.status_code == 200 and near.json()["count"] == expected > 0
    item_type, ids = next(iter(manifest["items"].items()))
    assert client.get(f"/api/v1/{item_type}/{ids[0]}/").status_code == 200
    token = manifest["devices"][0]["token"]
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200 and me.json()["id"] == manifest["devices"][0]["id"]


def test_a_rebuild_renews_cached_responses(small_city):
    client = APIClient()
    first = client.get("/api/v1/news/")
    assert client.get("/api/v1/news/")["X-Cache"] == "hit"
    build(replace(SMALL, seed=9, token_sample=5), reset=True)
    again = client.get("/api/v1/news/")
    assert again["X-Cache"] == "miss" and again.content != first.content
