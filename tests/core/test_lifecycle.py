"""Publication lifecycle services and the beat task, with controlled time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core import signals
from apps.core.models import Status, Tombstone
from apps.core.services import (
    content_archive,
    content_delete,
    content_publish,
    content_save,
    content_schedule,
    content_unpublish,
)
from apps.core.tasks import content_lifecycle_tick
from apps.news.models import News
from tests.factories import NewsFactory

pytestmark = pytest.mark.django_db


def _in(**delta):
    return timezone.now() + timedelta(**delta)


@pytest.fixture
def received():
    """Collect lifecycle signals sent during a test."""
    log: list[tuple[str, dict]] = []

    def make(name):
        def receiver(sender, **kwargs):
            log.append((name, kwargs))

        return receiver

    receivers = {
        "published": make("published"),
        "changed": make("changed"),
        "removed": make("removed"),
    }
    signals.content_published.connect(receivers["published"])
    signals.content_changed.connect(receivers["changed"])
    signals.content_removed.connect(receivers["removed"])
    yield log
    signals.content_published.disconnect(receivers["published"])
    signals.content_changed.disconnect(receivers["changed"])
    signals.content_removed.disconnect(receivers["removed"])


def test_content_publish_makes_a_draft_public_and_signals_once(received):
    news = NewsFactory()
    assert not News.objects.public().exists()

    content_publish(item=news)
    content_publish(item=news)  # idempotent

    news.refresh_from_db()
    assert news.status == Status.PUBLISHED
    assert news.published_at is not None
    assert list(News.objects.public()) == [news]
    assert [name for name, _ in received] == ["published"]


def test_content_schedule_then_beat_publishes_when_due(received):
    news = NewsFactory()
    start = timezone.now()
    content_schedule(item=news, publish_at=start + timedelta(hours=2))
    assert not News.objects.public().exists()

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert content_lifecycle_tick() == {"published": 0, "archived": 0, "failed": 0}
    with time_machine.travel(start + timedelta(hours=2, minutes=1), tick=False):
        assert content_lifecycle_tick()["published"] == 1
        assert list(News.objects.public()) == [news]
        assert content_lifecycle_tick()["published"] == 0

    news.refresh_from_db()
    assert news.publish_at == start + timedelta(hours=2)
    assert [name for name, _ in received] == ["published"]


def test_beat_archives_expired_items_and_leaves_a_tombstone(received):
    start = timezone.now()
    news = NewsFactory(expires_at=start + timedelta(days=1))
    content_publish(item=news)

    with time_machine.travel(start + timedelta(days=1, minutes=1), tick=False):
        assert not News.objects.public().exists()
        assert content_lifecycle_tick()["archived"] == 1

    news.refresh_from_db()
    assert news.status == Status.ARCHIVED
    assert Tombstone.objects.get(item_type="news", item_id=news.pk).reason == "archived"
    assert ("removed", {"item_type": "news", "item_id": news.pk, "reason": "archived"}) in [
        (n, {k: v for k, v in kw.items() if k != "signal"}) for n, kw in received
    ]


def test_republishing_removes_the_tombstone():
    news = NewsFactory()
    content_publish(item=news)
    content_archive(item=news)
    assert Tombstone.objects.filter(item_id=news.pk).exists()

    content_publish(item=news)

    assert not Tombstone.objects.filter(item_id=news.pk).exists()


def test_content_unpublish_withdraws_and_cancels_a_schedule():
    news = NewsFactory()
    content_schedule(item=news, publish_at=timezone.now() + timedelta(days=1))

    content_unpublish(item=news)

    news.refresh_from_db()
    assert news.status == Status.DRAFT
    assert news.publish_at is None


def test_content_delete_leaves_a_tombstone():
    news = NewsFactory()
    content_publish(item=news)
    pk = news.pk

    content_delete(item=news)

    assert not News.objects.filter(pk=pk).exists()
    assert Tombstone.objects.get(item_type="news", item_id=pk).reason == "deleted"


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ("draft", lambda item: content_archive(item=item)),
        (
            "published",
            lambda item: content_schedule(item=item, publish_at=timezone.now() + timedelta(days=1)),
        ),
        (
            "draft",
            lambda item: content_schedule(
                item=item, publish_at=timezone.now() - timedelta(minutes=1)
            ),
        ),
    ],
    ids=["archive-a-draft", "schedule-a-published-item", "schedule-in-the-past"],
)
def test_invalid_transitions_raise_and_change_nothing(setup, action):
    news = NewsFactory()
    if setup == "published":
        content_publish(item=news)
    before = News.objects.values("status", "publish_at").get(pk=news.pk)

    with pytest.raises(ValidationError):
        action(news)

    assert News.objects.values("status", "publish_at").get(pk=news.pk) == before


def test_publishing_an_expired_item_is_refused():
    news = NewsFactory(expires_at=timezone.now() + timedelta(minutes=1))
    with time_machine.travel(timezone.now() + timedelta(minutes=2)), pytest.raises(ValidationError):
        content_publish(item=news)


def test_content_save_refuses_status_changes_outside_the_lifecycle():
    news = NewsFactory()
    news.status = Status.PUBLISHED
    with pytest.raises(ValidationError):
        content_save(item=news)


def test_material_change_of_a_public_item_signals_an_update(received, mobility):
    from django.contrib.gis.geos import Point

    news = NewsFactory(category=mobility)
    content_publish(item=news)
    news.summary_fr = "Nouveau résumé"
    assert content_save(item=news) == []  # text edits are not material

    news.geometry = Point(4.85, 45.76, srid=4326)
    assert content_save(item=news) == ["geometry"]

    changed = [kw for name, kw in received if name == "changed"]
    assert len(changed) == 1
    assert changed[0]["changes"] == ["geometry"]
