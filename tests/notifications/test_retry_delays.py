"""Retries are scheduled in whole seconds, never sooner than the delay the policy asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import Urgency
from apps.core.services import content_publish
from apps.notifications import services
from apps.notifications.gateway.push import Outcome, PushResult
from apps.notifications.models import Delivery, DeliveryStatus
from apps.notifications.services import sending
from tests.factories import CategoryFactory, NewsFactory
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db


def test_a_fractional_retry_after_is_never_anticipated(django_capture_on_commit_callbacks):
    alerts = CategoryFactory()
    device = phone(follows=[alerts])
    news = NewsFactory(category=alerts, notify=True, urgency=Urgency.ALERT)
    with django_capture_on_commit_callbacks(execute=False):
        content_publish(item=news)
    delivery = Delivery.objects.get()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        [claimed] = sending._claim([delivery.pk], now, services.BatchReport())
    # Retry-After as an HTTP date gives fractional seconds: 4.01 s (plus up to 10 % of jitter)
    # must not become 4 s.
    result = PushResult(
        device.push_token, Outcome.QUOTA, error_code="QUOTA_EXCEEDED", retry_after_s=4.01
    )
    report = services.BatchReport()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sending._record([claimed], [sending._push_for(claimed)], [result], now, report)

    delivery.refresh_from_db()
    assert (delivery.status, report.retried) == (DeliveryStatus.PENDING, 1)
    assert delivery.not_before - now == timedelta(seconds=5)  # whole seconds, not sooner
    assert len(callbacks) == 1  # the retry's enqueue, with that countdown
