"""Selectors on the interaction log that the feed, the trainer and statistics use."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.recommend.codes import Action, Context, ItemType
from apps.recommend.models import Interaction
from apps.recommend.selectors import (
    device_category_affinities,
    device_dismissed_items,
    interactions_for_training,
    item_action_counts,
    item_popularity,
    items_existing,
)
from tests.factories import EventFactory, NewsFactory, WorksFactory
from tests.residents.factories import make_resident

pytestmark = pytest.mark.django_db


def log(device, item, action, *, context=Context.FEED, at=None, position=None):
    return Interaction.objects.create(
        device=device,
        event_id=uuid.uuid4(),
        item_type=ItemType.from_code(item.type_code),
        item_id=item.pk,
        action=action,
        context=context,
        position=position,
        at=at or timezone.now(),
    )


@pytest.fixture
def device():
    return make_resident(personalization_consent=True).device


def test_category_affinities_weigh_actions_per_category(device, culture, mobility):
    concert = EventFactory(category=culture)
    expo = NewsFactory(category=culture)
    roadworks = WorksFactory(category=mobility)
    log(device, concert, Action.OPEN)
    log(device, concert, Action.SAVE)
    log(device, expo, Action.LIKE)
    log(device, expo, Action.IMPRESSION)
    log(device, roadworks, Action.OPEN)
    log(device, roadworks, Action.DISMISS)
    log(make_resident().device, roadworks, Action.SAVE)

    affinities = device_category_affinities(device_id=device.pk)

    assert affinities == {culture.pk: 5.0, mobility.pk: -1.0}


def test_category_affinities_since_and_empty(device, culture):
    old = NewsFactory(category=culture)
    log(device, old, Action.OPEN, at=timezone.now() - timedelta(days=40))

    assert (
        device_category_affinities(device_id=device.pk, since=timezone.now() - timedelta(days=30))
        == {}
    )
    assert device_category_affinities(device_id=device.pk) == {culture.pk: 1.0}


def test_popularity_counts_positive_actions_in_a_window(device):
    other = make_resident(personalization_consent=True).device
    hot, warm, old = NewsFactory(), EventFactory(), NewsFactory()
    for d in (device, other):
        log(d, hot, Action.OPEN)
        log(d, hot, Action.SHARE)
    log(device, warm, Action.SAVE)
    log(device, warm, Action.IMPRESSION)
    log(device, old, Action.OPEN, at=timezone.now() - timedelta(days=10))

    since = timezone.now() - timedelta(days=7)

    assert item_popularity(since=since) == {("news", hot.pk): 4, ("events", warm.pk): 1}
    assert item_popularity(since=since, limit=1) == {("news", hot.pk): 4}
    assert item_popularity(since=since, item_type="events") == {("events", warm.pk): 1}
    assert item_popularity(since=since, actions=[Action.IMPRESSION]) == {("events", warm.pk): 1}


def test_item_action_counts_by_context(device):
    alert = NewsFactory()
    log(device, alert, Action.OPEN, context=Context.PUSH)
    log(make_resident().device, alert, Action.OPEN, context=Context.PUSH)
    log(device, alert, Action.OPEN, context=Context.FEED)
    log(device, alert, Action.DISMISS, context=Context.PUSH)

    assert item_action_counts(item_type="news", item_id=alert.pk) == {"open": 3, "dismiss": 1}
    assert item_action_counts(item_type="news", item_id=alert.pk, context="push") == {
        "open": 2,
        "dismiss": 1,
    }


def test_dismissed_items_of_a_device(device):
    a, b = NewsFactory(), WorksFactory()
    log(device, a, Action.DISMISS)
    log(device, b, Action.OPEN)

    assert device_dismissed_items(device_id=device.pk) == {("news", a.pk)}


def test_training_rows_are_in_time_order_within_the_window(device):
    item = NewsFactory()
    now = timezone.now()
    late = log(device, item, Action.OPEN, at=now - timedelta(hours=1), position=4)
    early = log(device, item, Action.IMPRESSION, at=now - timedelta(hours=5), position=4)
    log(device, item, Action.IMPRESSION, at=now - timedelta(days=3))

    rows = list(interactions_for_training(since=now - timedelta(days=1), until=now))

    assert [r["at"] for r in rows] == [early.at, late.at]
    assert rows[0] == {
        "device_id": device.pk,
        "item_type": ItemType.NEWS,
        "item_id": item.pk,
        "action": Action.IMPRESSION,
        "context": Context.FEED,
        "position": 4,
        "at": early.at,
    }


def test_items_existing_finds_items_of_each_type():
    news, works = NewsFactory(), WorksFactory()

    found = items_existing([("news", news.pk), ("works", works.pk), ("events", works.pk)])

    assert found == {("news", news.pk), ("works", works.pk)}


def test_codes_round_trip():
    for enum in (ItemType, Action, Context):
        for code in enum.codes():
            assert enum.from_code(code).code == code
    with pytest.raises(ValueError):
        Action.from_code("click")
