"""The error policy, end to end through the real firebase-admin path to the fake FCM.

Each FCM error class ends in the state architecture.md §6 prescribes: dead tokens deactivated (only
those), bad payloads failed with the token kept, auth errors retried later with an alarm, quota
and transient errors retried after ``Retry-After`` or a backoff, until the attempts run out.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import Urgency
from apps.core.services import content_publish
from apps.notifications import services
from apps.notifications.models import Delivery, DeliveryStatus, Reason
from tests.factories import WorksFactory
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    def run(item):
        with django_capture_on_commit_callbacks(execute=True):
            content_publish(item=item)
        return item

    return run


@pytest.fixture
def target(mobility, fcm_settings):
    """One resident near the centre following mobility, and a roadwork there to announce."""
    device = phone(follows=[mobility])
    return device, WorksFactory(category=mobility, notify=True)


@pytest.mark.parametrize(
    ("fault", "reason", "token_kept"),
    [
        ("unregistered", Reason.DEAD_TOKEN, False),
        ("sender_id_mismatch", Reason.DEAD_TOKEN, False),
        ("invalid_token", Reason.DEAD_TOKEN, False),
        ("invalid_token_bare", Reason.DEAD_TOKEN, False),
        ("invalid_payload", Reason.INVALID_PAYLOAD, True),
    ],
)
def test_final_errors(fault, reason, token_kept, target, fake_fcm, publish):
    device, works = target
    fake_fcm.set_faults(**{fault: [device.push_token]})
    publish(works)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.reason) == (DeliveryStatus.FAILED, reason)
    assert delivery.attempts == 1
    device.refresh_from_db()
    assert device.push_token_active is token_kept
    assert fake_fcm.stats()["received"] == {device.push_token: 1}  # no retry
    assert fake_fcm.stats()["sent"] == 0


def test_a_bad_payload_never_deactivates_the_other_tokens(
    mobility, fcm_settings, fake_fcm, publish
):
    bad, good = phone(follows=[mobility]), phone(follows=[mobility])
    fake_fcm.set_faults(invalid_payload=[bad.push_token])
    publish(WorksFactory(category=mobility, notify=True))
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.push_token_active and good.push_token_active
    assert fake_fcm.stats()["delivered"] == {good.push_token: 1}


def test_a_token_moved_since_the_send_is_not_deactivated(target, fake_fcm, publish):
    """The dead-token update matches the token that failed, not a newer one of the device."""
    device, works = target
    fake_fcm.set_faults(unregistered=[device.push_token])
    publish(works)
    assert Delivery.objects.get().reason == Reason.DEAD_TOKEN
    from apps.residents.services import device_push_token_set

    device = device_push_token_set(device=device, push_token="fresh-token-" + "y" * 40)
    assert device.push_token_active


def test_auth_errors_alarm_and_keep_tokens(target, fake_fcm, publish, caplog):
    device, works = target
    fake_fcm.set_faults(third_party_auth=[device.push_token])
    before = timezone.now()
    with caplog.at_level(logging.ERROR, logger="apps.notifications"):
        publish(works)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.error_code == "auth:THIRD_PARTY_AUTH_ERROR"  # the admin alarm counts it
    assert delivery.not_before >= before + timedelta(seconds=services.AUTH_RETRY_S)
    device.refresh_from_db()
    assert device.push_token_active
    assert any("authentication failed" in r.getMessage() for r in caplog.records)


def test_auth_errors_alarm_once_per_batch(target, fake_fcm, publish, caplog):
    """One failed batch, one ERROR record: the gateway does not alarm besides the pipeline."""
    device, works = target
    fake_fcm.set_faults(third_party_auth=[device.push_token])
    with caplog.at_level(logging.ERROR):
        publish(works)
    alarms = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage().split(":")[0] for r in alarms] == [
        "push authentication failed for 1 push(es)"
    ]


def test_quota_waits_for_retry_after(target, fake_fcm, publish):
    _device, works = target
    fake_fcm.storm(429, duration_s=30, retry_after_s=7)
    before = timezone.now()
    publish(works)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.error_code == "QUOTA_EXCEEDED"
    # Retry-After: 7 plus up to 10 % jitter, never sooner.
    assert before + timedelta(seconds=7) <= delivery.not_before
    assert delivery.not_before <= timezone.now() + timedelta(seconds=9)


@pytest.mark.parametrize("status", [503, 500])
def test_transient_errors_back_off_then_deliver(status, target, fake_fcm, publish):
    device, works = target
    fake_fcm.storm(status, duration_s=30)
    before = timezone.now()
    publish(works)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    # First retry: between half and all of 5 s (equal jitter).
    assert before + timedelta(seconds=2) <= delivery.not_before
    assert delivery.not_before <= timezone.now() + timedelta(seconds=6)
    # The storm ends; the retry (as the queued task or the sweeper would run it) delivers.
    fake_fcm.set_faults(storm=None)
    Delivery.objects.filter(pk=delivery.pk).update(not_before=timezone.now())
    report = services.deliveries_send(ids=[delivery.pk])
    assert report.sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert fake_fcm.stats()["delivered"] == {device.push_token: 1}


def test_retries_run_out(target, fake_fcm, publish, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    device, works = target
    fake_fcm.set_faults(unavailable=[device.push_token])
    publish(works)
    delivery = Delivery.objects.get()
    for _ in range(2):
        Delivery.objects.filter(pk=delivery.pk).update(not_before=timezone.now())
        services.deliveries_send(ids=[delivery.pk])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.reason) == (DeliveryStatus.FAILED, Reason.RETRIES_EXHAUSTED)
    assert delivery.attempts == 3
    assert fake_fcm.stats()["received"] == {device.push_token: 3}
    device.refresh_from_db()
    assert device.push_token_active


def test_a_retry_waiting_for_its_time_is_not_sent_early(target, fake_fcm, publish):
    device, works = target
    fake_fcm.storm(503, duration_s=30)
    publish(works)
    fake_fcm.set_faults(storm=None)
    delivery = Delivery.objects.get()
    report = services.deliveries_send(ids=[delivery.pk])  # a duplicate task, before not_before
    assert report.claimed == 0
    assert fake_fcm.stats()["received"] == {device.push_token: 1}


def test_fcm_options_follow_urgency_and_tag(mobility, fcm_settings, fake_fcm, publish):
    device = phone(follows=[mobility], language="en")
    works = publish(WorksFactory(category=mobility, notify=True, urgency=Urgency.ALERT))
    message = fake_fcm.messages[-1]["message"]
    assert message["token"] == device.push_token
    assert message["android"]["priority"] == "high"
    assert message["android"]["ttl"] == "21600s"
    assert message["android"]["collapse_key"] == f"works-{works.pk}"
    assert message["android"]["notification"]["channel_id"] == "quartier_alert"
    assert message["android"]["notification"]["tag"] == f"works-{works.pk}"
    assert message["apns"]["headers"]["apns-collapse-id"] == f"works-{works.pk}"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    ticket = message["data"].pop("open_ticket")
    assert message["data"] == {
        "kind": "new",
        "notification_id": str(Delivery.objects.get().notification_id),
        "type": "works",
        "id": str(works.pk),
        "lang": "en",
    }
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", ticket)  # 128 random bits (services.opens)
