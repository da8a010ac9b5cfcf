"""``POST /api/v1/interactions/``: validation, idempotence, consent, compact storage, indexes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.recommend.codes import Action, Context, ItemType
from apps.recommend.models import Interaction
from apps.recommend.selectors import interactions_for_training, item_action_counts
from tests.factories import EventFactory, NewsFactory, WorksFactory
from tests.residents.factories import make_resident, published

pytestmark = pytest.mark.django_db

URL = "/api/v1/interactions/"


@pytest.fixture
def consenting():
    return make_resident(personalization_consent=True)


@pytest.fixture
def news():
    return published(NewsFactory())


def event(item, **extra):
    return {
        "type": item.type_code,
        "id": item.pk,
        "action": "open",
        "at": timezone.now().isoformat(),
        "context": "feed",
        "position": 2,
        "event_id": str(uuid.uuid4()),
        **extra,
    }


def test_a_batch_is_accepted_and_stored_compactly(consenting, news):
    works, ev = published(WorksFactory()), published(EventFactory())
    batch = [
        event(news, action="impression", position=0),
        event(works, action="dismiss", context="map", position=None),
        event(ev, action="share", context="push"),
    ]

    response = consenting.client.post(URL, {"events": batch}, format="json")

    assert response.status_code == 202
    assert response.json() == {"received": 3, "logged": True}
    rows = {
        (r.item_type, r.item_id): r for r in Interaction.objects.filter(device=consenting.device)
    }
    assert rows[(ItemType.NEWS, news.pk)].action == Action.IMPRESSION
    assert rows[(ItemType.NEWS, news.pk)].position == 0
    assert rows[(ItemType.WORKS, works.pk)].context == Context.MAP
    assert rows[(ItemType.WORKS, works.pk)].position is None
    assert rows[(ItemType.EVENTS, ev.pk)].action == Action.SHARE
    assert rows[(ItemType.EVENTS, ev.pk)].event_id == uuid.UUID(batch[2]["event_id"])


def test_column_types_are_compact():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'recommend_interaction'"
        )
        types = dict(cursor.fetchall())
    assert types == {
        "id": "bigint",
        "device_id": "bigint",
        "event_id": "uuid",
        "item_type": "smallint",
        "item_id": "bigint",
        "action": "smallint",
        "context": "smallint",
        "position": "smallint",
        "at": "timestamp with time zone",
        # Online evaluation: null but on interleaved feed items, cleared after two days.
        "interleave_request": "character varying",
        "interleave_team": "smallint",
        "interleave_pair": "character varying",
    }


def test_a_retried_batch_is_stored_once(consenting, news):
    batch = {"events": [event(news), event(news, action="save")]}

    for _ in range(3):
        assert consenting.client.post(URL, batch, format="json").status_code == 202

    assert Interaction.objects.count() == 2


def test_the_same_event_id_on_two_devices_is_two_events(consenting, news):
    other = make_resident(personalization_consent=True)
    shared = event(news)

    consenting.client.post(URL, {"events": [shared]}, format="json")
    other.client.post(URL, {"events": [shared]}, format="json")

    assert Interaction.objects.count() == 2


def test_without_consent_nothing_is_stored_but_the_answer_is_202(resident, news):
    response = resident.client.post(URL, {"events": [event(news)]}, format="json")

    assert response.status_code == 202
    assert response.json() == {"received": 1, "logged": False}
    assert not Interaction.objects.exists()


def test_withdrawing_consent_erases_the_log(consenting, news):
    consenting.client.post(URL, {"events": [event(news)]}, format="json")
    assert Interaction.objects.exists()

    consenting.client.patch("/api/v1/me/", {"personalization_consent": False}, format="json")

    assert not Interaction.objects.exists()
    consenting.client.post(URL, {"events": [event(news)]}, format="json")
    assert not Interaction.objects.exists()


def test_interactions_need_a_device_token(news):
    response = APIClient().post(URL, {"events": [event(news)]}, format="json")

    assert response.status_code == 401
    assert not Interaction.objects.exists()


def test_clock_skew_of_a_few_minutes_is_accepted(consenting, news):
    soon = (timezone.now() + timedelta(minutes=4)).isoformat()

    response = consenting.client.post(URL, {"events": [event(news, at=soon)]}, format="json")

    assert response.status_code == 202
    assert Interaction.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "videos"}, "events.0.type"),
        ({"id": 999_999}, "events.0.id"),
        ({"id": 0}, "events.0.id"),
        ({"id": 2**64}, "events.0.id"),
        ({"action": "click"}, "events.0.action"),
        ({"context": "widget"}, "events.0.context"),
        ({"at": "yesterday"}, "events.0.at"),
        ({"at": "2999-01-01T00:00:00Z"}, "events.0.at"),
        ({"at": "2001-01-01T00:00:00Z"}, "events.0.at"),
        ({"position": -1}, "events.0.position"),
        ({"position": 10_001}, "events.0.position"),
        ({"event_id": "retry-1"}, "events.0.event_id"),
        ({"event_id": None}, "events.0.event_id"),
        ({"score": 0.9}, "events.0.score"),
    ],
)
def test_bad_events_reject_the_whole_batch(consenting, news, change, field):
    batch = [event(news), {**event(news), **change}]
    batch.reverse()

    response = consenting.client.post(URL, {"events": batch}, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert not Interaction.objects.exists()


def test_unknown_item_of_a_known_type_is_named(consenting, news):
    works = published(WorksFactory())
    batch = [event(news), event(works, type="news")]

    response = consenting.client.post(URL, {"events": batch}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["events.1.id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({}, "events"),
        ({"events": "open"}, "events"),
        ({"events": [], "device": 1}, "device"),
    ],
)
def test_malformed_batches_are_400(consenting, body, field):
    response = consenting.client.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in {name.split(".")[0] for name in response.json()["fields"]}


def test_batch_size_is_limited_to_100(consenting, news):
    assert (
        consenting.client.post(
            URL, {"events": [event(news) for _ in range(100)]}, format="json"
        ).status_code
        == 202
    )

    response = consenting.client.post(
        URL, {"events": [event(news) for _ in range(101)]}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["events.non_field_errors"]
    assert Interaction.objects.count() == 100


def test_a_batch_costs_a_constant_number_of_queries(consenting, news, django_assert_num_queries):
    works = published(WorksFactory())
    batch = [event(news) for _ in range(50)] + [event(works) for _ in range(50)]

    # token + one existence query per type + one INSERT
    with django_assert_num_queries(4):
        consenting.client.post(URL, {"events": batch}, format="json")


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_training_and_statistics_queries_use_their_indexes(consenting, news):
    consenting.client.post(URL, {"events": [event(news)]}, format="json")
    since = timezone.now() - timedelta(days=7)

    assert "interaction_at" in _plan(interactions_for_training(since=since))
    stats = Interaction.objects.filter(
        item_type=ItemType.NEWS, item_id=news.pk, action=Action.OPEN, context=Context.PUSH
    )
    assert "interaction_item_stats" in _plan(stats)
    assert item_action_counts(item_type="news", item_id=news.pk) == {"open": 1}


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: NewsFactory(), id="draft"),
        pytest.param(
            lambda: NewsFactory(status="scheduled", publish_at=timezone.now() + timedelta(days=1)),
            id="scheduled",
        ),
        pytest.param(
            lambda: NewsFactory(status="published", publish_at=timezone.now() + timedelta(days=1)),
            id="published_in_the_future",
        ),
    ],
)
def test_interactions_items_never_public_are_refused_like_nonexistent_ones(consenting, make):
    hidden = make()
    missing = {**event(hidden), "id": 10**9}

    refused = consenting.client.post(URL, {"events": [event(hidden)]}, format="json")
    nonexistent = consenting.client.post(URL, {"events": [missing]}, format="json")

    assert refused.status_code == nonexistent.status_code == 400
    assert refused.json() == nonexistent.json()  # a draft's id says nothing more
    assert not Interaction.objects.exists()


def test_interactions_items_that_were_public_are_accepted(consenting, news):
    """An app reports late: an item expired, archived or over since it was shown still counts."""
    expired = published(NewsFactory())
    expired.publish_at = timezone.now() - timedelta(hours=2)
    expired.expires_at = timezone.now() - timedelta(minutes=1)
    expired.save(update_fields=["publish_at", "expires_at"])
    archived = published(NewsFactory())
    archived.status = "archived"
    archived.save(update_fields=["status"])
    batch = [event(news), event(expired), event(archived)]

    response = consenting.client.post(URL, {"events": batch}, format="json")

    assert response.status_code == 202, response.json()
    assert Interaction.objects.filter(device=consenting.device).count() == 3
