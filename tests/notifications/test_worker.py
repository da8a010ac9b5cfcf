"""The push pipeline through a real Celery worker (a subprocess) on Redis, the test database and
the fake FCM, by the real firebase-admin path (JWT, token exchange, send).

The worker consumes ``push`` and ``default`` and sends with ``PUSH_BACKEND=fcm`` to the
session's fake FCM; this process enqueues to the same Redis (``testing.pushworker.celery_broker``)
and commits for real (``transactional_db``), so that the worker sees the rows.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import Status, Urgency
from apps.core.services import content_publish, content_schedule
from apps.notifications import texts
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.residents.models import Device
from testing.pushworker import create_devices, token_for
from tests.factories import AreaFactory, CategoryFactory, NewsFactory, WorksFactory
from tests.notifications.helpers import FAR, phone
from tests.worker_support import push_worker_fixtures, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/6")
#: The worker's sweeper takes back rows claimed or enqueued more than this long ago.
STUCK_S = 60


push_worker, worker = push_worker_fixtures(
    BROKER_URL,
    env={"NOTIFY_STUCK_SENDING_S": str(STUCK_S), "NOTIFY_STUCK_PENDING_S": str(STUCK_S)},
)


def settled(notification_ids: list[int] | None = None) -> Callable[[], bool]:
    """True once every delivery (of these notifications) left pending and sending."""

    def check() -> bool:
        rows = Delivery.objects.all()
        if notification_ids is not None:
            rows = rows.filter(notification_id__in=notification_ids)
        open_ = rows.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        return rows.exists() and not open_.exists()

    return check


def test_publishing_a_roadwork_pushes_its_audience_once_each_through_a_real_worker(
    worker, fake_fcm
):
    mobility, culture = CategoryFactory(slug="mobilite"), CategoryFactory(slug="culture")
    district = AreaFactory(slug="presquile")
    near = phone(follows=[mobility])
    near_english = phone(follows=[mobility], language="en")
    by_area = phone(at=FAR, follows=[mobility], areas=[district])
    not_following = phone(follows=[culture])
    far_away = phone(at=FAR, follows=[mobility])
    muted = phone(follows=[mobility], notifications_enabled=False)
    alerts_only = phone(follows=[mobility], min_urgency=Urgency.ALERT)
    # A crowd of followers around the works (and one of non-followers): several batches of 500.
    create_devices(1_100, prefix="crowd-", category_id=mobility.pk, grid=(3, 3))
    create_devices(300, prefix="others-", category_id=culture.pk, grid=(3, 3))
    works = WorksFactory(category=mobility, notify=True, title_en="Roadworks")
    works.areas.add(district)

    content_publish(item=works)  # commits; dispatch goes to Redis on commit

    notification = Notification.objects.get(kind=Kind.NEW, item_type="works", item_id=works.pk)
    wait_for(settled([notification.pk]), worker)
    expected = {near.push_token, near_english.push_token, by_area.push_token}
    expected |= {token_for("crowd-", n) for n in range(1, 1_101)}
    delivered = dict(fake_fcm.recorder.delivered)
    assert set(delivered) == expected
    assert set(delivered.values()) == {1}  # once each
    assert notification.targeted == len(expected)
    assert Delivery.objects.filter(
        notification=notification, status=DeliveryStatus.SENT
    ).count() == (len(expected))
    outsiders = [not_following, far_away, muted, alerts_only]
    assert not {d.push_token for d in outsiders} & set(fake_fcm.recorder.received)
    assert not any(token.startswith("others-") for token in fake_fcm.recorder.received)
    # The messages are the SDK's v1 encoding: collapse by tag, text in the device's language.
    by_token = {m["token"]: m["message"] for m in fake_fcm.messages}
    tag = f"works-{works.pk}"
    for message in by_token.values():
        assert message["android"]["collapse_key"] == tag
        assert message["apns"]["headers"]["apns-collapse-id"] == tag
        assert message["data"]["id"] == str(works.pk)
    english = texts.new_texts(works)["en"]["title"]
    assert by_token[near_english.push_token]["notification"]["title"] == english
    assert by_token[near.push_token]["notification"]["title"] != english
    assert fake_fcm.recorder.unauthorized == 0


def _rows(model) -> list[tuple]:
    """Every row of ``model``, every column, sorted: to compare a table before and after."""
    return sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]))


def test_an_open_is_counted_for_a_device_without_consent_and_nothing_links_it(worker, fake_fcm):
    """Issue 18, item 4: through the real worker and the fake FCM, a resident who refused
    personalization opens the push; the city's statistics count it, and the database keeps
    nothing that says which device opened (only the notification's counter moved)."""
    from django.test import Client

    from apps.notifications.models import OpenTicket
    from apps.notifications.selectors import notification_stats
    from apps.recommend.models import Interaction

    mobility = CategoryFactory(slug="mobilite")
    refuses = phone(follows=[mobility], personalization_consent=False)
    others = [phone(follows=[mobility], personalization_consent=False) for _ in range(3)]
    works = WorksFactory(category=mobility, notify=True)
    content_publish(item=works)
    notification = Notification.objects.get(kind=Kind.NEW, item_type="works", item_id=works.pk)
    wait_for(settled([notification.pk]), worker)
    by_token = {m["token"]: m["message"]["data"] for m in fake_fcm.messages}
    assert set(by_token) == {d.push_token for d in [refuses, *others]}
    assert OpenTicket.objects.filter(notification=notification).count() == 4
    tables = (Delivery, Device, Interaction, OpenTicket)
    before = {model: _rows(model) for model in tables}

    # The app reports the open with the push's data, and no credentials at all.
    data = by_token[refuses.push_token]
    body = {"notification_id": int(data["notification_id"]), "ticket": data["open_ticket"]}
    answer = Client().post("/api/v1/opens/", body, content_type="application/json")
    again = Client().post("/api/v1/opens/", body, content_type="application/json")

    assert (answer.status_code, answer.json()) == (200, {"counted": True})
    assert (again.status_code, again.json()) == (200, {"counted": False})  # once per ticket
    notification.refresh_from_db()
    assert notification.opens == 1
    assert notification_stats([notification])[notification.pk].opened == 1
    # What changed: one anonymous ticket digest is gone, and the counter. Deliveries (still
    # "sent", same rows, same times), devices and the interaction log are untouched, and the
    # ticket left no trace in any of them.
    after = {model: _rows(model) for model in tables}
    assert after[Delivery] == before[Delivery]
    assert after[Device] == before[Device]
    assert after[Interaction] == before[Interaction] == []
    assert len(after[OpenTicket]) == len(before[OpenTicket]) - 1
    assert {f.name for f in OpenTicket._meta.get_fields()} == {"digest", "notification"}
    for model in (Delivery, Device, Notification):
        assert data["open_ticket"] not in repr(_rows(model))


def test_a_scheduled_item_is_published_and_pushed_by_the_lifecycle_tick(worker, fake_fcm):
    from backend.celery import app

    alerts = CategoryFactory(slug="alertes")
    resident = phone(follows=[alerts])
    news = NewsFactory(category=alerts, notify=True, urgency=Urgency.IMPORTANT)
    content_schedule(item=news, publish_at=timezone.now() + timedelta(seconds=1))
    assert not Notification.objects.exists()
    time.sleep(1.1)

    # What beat sends every minute (backend.celery's schedule), by name, through the broker.
    assert app.conf.beat_schedule["content-lifecycle"]["task"] == (
        "apps.core.tasks.content_lifecycle_tick"
    )
    app.send_task("apps.core.tasks.content_lifecycle_tick")

    wait_for(lambda: Notification.objects.filter(item_id=news.pk).exists(), worker)
    wait_for(settled(), worker)
    news.refresh_from_db()
    assert news.status == Status.PUBLISHED
    assert dict(fake_fcm.recorder.delivered) == {resident.push_token: 1}
    delivery = Delivery.objects.get()
    assert (delivery.device_id, delivery.status) == (resident.pk, DeliveryStatus.SENT)


def _stuck_notification(item, devices: list[Device], **fields) -> list[Delivery]:
    notification = Notification.objects.create(
        key=f"new:{item.type_code}:{item.pk}",
        kind=Kind.NEW,
        item_type=item.type_code,
        item_id=item.pk,
        urgency=item.urgency,
        tag=f"{item.type_code}-{item.pk}",
        texts=texts.new_texts(item),
        targeted=len(devices),
    )
    return Delivery.objects.bulk_create(
        Delivery(notification=notification, device=device, **fields) for device in devices
    )


def test_the_sweeper_resends_stuck_and_lost_deliveries_exactly_once(worker, fake_fcm):
    from backend.celery import app

    alerts = CategoryFactory(slug="alertes")
    news = NewsFactory(category=alerts, notify=False, urgency=Urgency.ALERT)
    content_publish(item=news)  # notify=False: no notification of its own
    long_ago = timezone.now() - timedelta(hours=1)
    recently = timezone.now() - timedelta(seconds=5)
    people = [phone(follows=[alerts]) for _ in range(8)]
    # A worker died after claiming these (sending, claimed long ago) ...
    died = _stuck_notification(news, people[:3], status="sending", claimed_at=long_ago, attempts=1)
    notification = died[0].notification
    rows = Delivery.objects.bulk_create(
        [
            # ... the on-commit enqueue of these was lost (pending, enqueued long ago or never) ...
            Delivery(notification=notification, device=people[3], enqueued_at=long_ago),
            Delivery(notification=notification, device=people[4], enqueued_at=None),
            # ... and these are in flight or queued right now: the sweeper leaves them alone.
            Delivery(
                notification=notification, device=people[5], status="sending", claimed_at=recently
            ),
            Delivery(notification=notification, device=people[6], enqueued_at=recently),
            Delivery(
                notification=notification,
                device=people[7],
                not_before=timezone.now() + timedelta(hours=1),
                enqueued_at=long_ago,
            ),
        ]
    )
    stuck = [*died, rows[0], rows[1]]

    for _ in range(3):  # beat runs it every minute; running it again must send nothing twice
        app.send_task("apps.notifications.tasks.sweep_tick")
    stuck_ids = [row.pk for row in stuck]

    def stuck_sent() -> bool:
        return Delivery.objects.filter(pk__in=stuck_ids, status=DeliveryStatus.SENT).count() == 5

    wait_for(stuck_sent, worker)
    app.send_task("apps.notifications.tasks.sweep_tick")
    time.sleep(1.0)  # a late duplicate would arrive by now
    assert dict(fake_fcm.recorder.delivered) == {p.push_token: 1 for p in people[:5]}
    untouched = {
        row.device_id: row.status
        for row in Delivery.objects.filter(pk__in=[r.pk for r in rows[2:]])
    }
    assert untouched == {
        people[5].pk: DeliveryStatus.SENDING,
        people[6].pk: DeliveryStatus.PENDING,
        people[7].pk: DeliveryStatus.PENDING,
    }
    assert Delivery.objects.get(pk=died[0].pk).attempts == 2
