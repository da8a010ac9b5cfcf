"""The Celery broker down or hung while an editor publishes an item that notifies.

The item and its notification (with its pending deliveries: the outbox) are committed before
the task is enqueued; a failed enqueue must neither turn the answer into a 500 nor hold the
request, and the sweeper sends the deliveries once the broker is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from kombu import pools
from rest_framework.test import APIClient

from apps.notifications.models import Delivery, DeliveryStatus, Notification
from apps.notifications.services import deliveries_sweep
from apps.works.models import Works
from backend.celery import app
from testing.faultservers import BlackHole, free_port
from tests.api_support import key_client
from tests.factories import CENTRE_LAT, CENTRE_LON
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db(transaction=True)

#: Longest answer accepted while the broker cannot take the task.
FAST_S = 4.0


@pytest.fixture
def broker(settings) -> Iterator[Callable[[str | None], None]]:
    """Point the Celery app at ``url`` (not eager), and back afterwards."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}

    def forget_connections() -> None:
        # kombu keeps producer pools per connection in a global registry: drop them all.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    def use(url: str | None) -> None:
        forget_connections()
        if url is None:  # back: tasks run eagerly again, as in the other tests
            app.conf.update(**saved)
            return
        app.conf.update(broker_url=url, task_always_eager=False)
        settings.CELERY_BROKER_URL = url

    yield use
    use(None)


def _publish_works(city, mobility):
    body = {
        "title_fr": "Fermeture de la rue Centrale",
        "summary_fr": "Travaux de voirie.",
        "category": mobility.slug,
        "status": "published",
        "notify": True,
        "start_at": "2030-01-01T08:00:00Z",
        "end_at": "2030-01-31T18:00:00Z",
        "geometry": {"type": "Point", "coordinates": [CENTRE_LON, CENTRE_LAT]},
    }
    started = time.monotonic()
    response = key_client(city).post("/api/v1/works/", body, format="json")
    return response, time.monotonic() - started


def _assert_published_and_queued_in_outbox(response, took, follower) -> None:
    assert response.status_code == 201, response.content
    assert took < FAST_S, took
    works = Works.objects.get(pk=response.json()["id"])
    notification = Notification.objects.get(item_id=works.pk)
    delivery = Delivery.objects.get(notification=notification)
    assert delivery.device == follower
    assert delivery.status == DeliveryStatus.PENDING  # in the outbox: the sweeper sends it


def test_broker_stopped_publishing_answers_201_and_keeps_the_push(broker, city, mobility):
    follower = phone(follows=[mobility])
    broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    response, took = _publish_works(city, mobility)

    _assert_published_and_queued_in_outbox(response, took, follower)
    broker(None)
    # The broker is back: a sweep (beat, every minute) takes the delivery once it has waited
    # NOTIFY_STUCK_PENDING_S, and sends it.
    later = timezone.now() + timedelta(seconds=settings.NOTIFY_STUCK_PENDING_S + 1)
    assert deliveries_sweep(now=later)["lost"] == 1
    delivery = Delivery.objects.get(device=follower)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1


def test_broker_hung_publishing_answers_in_bounded_time(broker, city, mobility):
    """Before the broker timeouts, the request hung for more than 100 s."""
    follower = phone(follows=[mobility])
    hole = BlackHole()
    try:
        broker(hole.url)
        response, took = _publish_works(city, mobility)
    finally:
        hole.close()

    _assert_published_and_queued_in_outbox(response, took, follower)


def test_broker_hung_health_is_degraded_in_bounded_time(settings):
    hole = BlackHole()
    try:
        settings.CELERY_BROKER_URL = hole.url
        started = time.monotonic()
        response = APIClient().get("/api/v1/health/")
        took = time.monotonic() - started
    finally:
        hole.close()
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == "unavailable"
    assert took < FAST_S
