"""ETag / Last-Modified validators and 304 responses on lists and details."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.test import APIClient

from apps.core.services import content_archive, content_save
from tests.api_support import published_event, published_news

pytestmark = pytest.mark.django_db


def _get(path, **headers):
    return APIClient().get(path, **headers)


@pytest.mark.parametrize(
    ("cache_seconds", "queries"),
    [(0, 1), (60, 0)],
    ids=["without the response cache: one query", "from the response cache: no query"],
)
def test_list_carries_validators_and_answers_304_with_one_query(
    settings, django_assert_num_queries, cache_seconds, queries
):
    settings.API_CACHE_SECONDS = cache_seconds
    published_news()
    first = _get("/api/v1/news/")
    etag = first["ETag"]

    assert etag.startswith('W/"')
    assert first["Last-Modified"]
    assert first["Cache-Control"] == "no-cache"
    vary = {v.strip() for v in first["Vary"].split(",")}
    assert {"Accept", "Accept-Language"} <= vary

    with django_assert_num_queries(queries):
        again = _get("/api/v1/news/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_list_etag_changes_when_an_item_changes_or_leaves():
    news = published_news()
    etag = _get("/api/v1/news/")["ETag"]

    news.summary_fr = "Nouveau résumé"
    content_save(item=news)
    changed = _get("/api/v1/news/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag

    content_archive(item=news)
    emptied = _get("/api/v1/news/", HTTP_IF_NONE_MATCH=changed["ETag"])
    assert emptied.status_code == 200 and emptied.json()["count"] == 0


def test_etag_depends_on_parameters_language_and_format():
    published_news()
    plain = _get("/api/v1/news/")["ETag"]
    others = {
        _get("/api/v1/news/?page_size=5")["ETag"],
        _get("/api/v1/news/", HTTP_ACCEPT_LANGUAGE="en")["ETag"],
        _get("/api/v1/news/?format=geojson")["ETag"],
    }
    assert plain not in others and len(others) == 3


def test_if_modified_since():
    news = published_news()
    response = _get("/api/v1/news/")
    assert response["Last-Modified"] == http_date(news.updated_at.timestamp())

    later = http_date((news.updated_at + timedelta(seconds=5)).timestamp())
    earlier = http_date((news.updated_at - timedelta(minutes=5)).timestamp())
    assert _get("/api/v1/news/", HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    assert _get("/api/v1/news/", HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_detail_304_until_the_item_changes():
    news = published_news()
    path = f"/api/v1/news/{news.pk}/"
    etag = _get(path)["ETag"]

    assert _get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    news.title_fr = "Nouveau titre"
    content_save(item=news)
    fresh = _get(path, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh.json()["title"] == "Nouveau titre"


def test_event_etag_changes_when_the_next_occurrence_passes():
    start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    event = published_event(
        start_at=start, end_at=start + timedelta(hours=1), rrule="FREQ=DAILY;COUNT=3"
    )
    path = f"/api/v1/events/{event.pk}/"
    first = _get(path)
    assert first.json()["next_start_at"] == timezone.localtime(start).isoformat()

    with time_machine.travel(start + timedelta(hours=2)):
        later = _get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        listed = _get("/api/v1/events/", HTTP_IF_NONE_MATCH=_get("/api/v1/events/")["ETag"])

    assert later.status_code == 200
    next_day = timezone.localtime(start + timedelta(days=1)).isoformat()
    assert later.json()["next_start_at"] == next_day
    assert listed.status_code == 304  # nothing moved since that list was fetched


def test_taxonomy_lists_have_etags_too(mobility):
    etag = _get("/api/v1/categories/")["ETag"]
    assert _get("/api/v1/categories/", HTTP_IF_NONE_MATCH=etag).status_code == 304

    mobility.name_fr = "Déplacements"
    mobility.save()
    renamed = _get("/api/v1/categories/", HTTP_IF_NONE_MATCH=etag)
    assert renamed.status_code == 200
    assert renamed.json()["results"][0]["name"] == "Déplacements"


def test_a_removal_moves_last_modified_forward():
    kept, removed = published_news(), published_news()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        before = _get("/api/v1/news/")["Last-Modified"]
        content_archive(item=removed)
        after = _get("/api/v1/news/", HTTP_IF_MODIFIED_SINCE=before)

    assert after.status_code == 200
    assert [item["id"] for item in after.json()["results"]] == [kept.pk]
    assert after["Last-Modified"] != before
