"""Storage limitation: old deliveries are purged; an erased device takes its digests along."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.notifications import services
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.notifications.retention import deliveries_purge
from apps.residents.services import device_erase
from tests.notifications.helpers import phone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]


def _delivery(notification, device, status, age_days):
    delivery = Delivery.objects.create(notification=notification, device=device, status=status)
    Delivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(days=age_days)
    )
    return delivery


def test_finished_deliveries_older_than_the_retention_period_are_purged(settings):
    settings.RETENTION_DAYS = 30
    a, b, c = phone(), phone(), phone()
    news = Notification.objects.create(key="new:news:1", kind=Kind.NEW, item_type="news", item_id=1)
    digest = Notification.objects.create(key=f"digest:{a.pk}:x", kind=Kind.DIGEST)
    old_sent = _delivery(news, a, DeliveryStatus.SENT, 31)
    _delivery(digest, a, DeliveryStatus.SENT, 31)
    recent = _delivery(news, b, DeliveryStatus.SENT, 29)
    old_held = _delivery(news, c, DeliveryStatus.HELD, 31)  # still to send: kept
    assert deliveries_purge() == {
        "deliveries": 2,
        "personal_notifications": 1,
        "open_tickets": 0,
    }
    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent.pk, old_held.pk}
    assert not Delivery.objects.filter(pk=old_sent.pk).exists()
    assert list(Notification.objects.values_list("key", flat=True)) == ["new:news:1"]


def test_erasing_a_device_erases_its_digests_and_test_pushes(django_capture_on_commit_callbacks):
    device, other = phone(), phone()
    Notification.objects.create(key=f"digest:{device.pk}:20261202T1730", kind=Kind.DIGEST)
    Notification.objects.create(key=f"digest:{other.pk}:20261202T1730", kind=Kind.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        services.device_test_push(device=device)
    assert Notification.objects.filter(kind=Kind.TEST).count() == 1
    device_erase(device=device)
    assert list(Notification.objects.values_list("key", flat=True)) == [
        f"digest:{other.pk}:20261202T1730"
    ]
