"""A drill end to end: through a real Celery worker (subprocess) on Redis, the test database
and the fake FCM by the real firebase-admin path. Enrolled test devices get "EXERCICE …";
no other device gets anything; the report's figures equal the deliveries."""

from __future__ import annotations

import os

import pytest

from apps.alerts.models import CapMessage
from apps.alerts.report.export import report_csv, report_pdf
from apps.alerts.report.figures import alert_report
from apps.core.services import content_publish
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.residents.models import Device, DrillEnrolment
from apps.residents.services import drill_code_create, drill_enrol
from testing.pushworker import create_devices, token_for
from tests.alerts.support import alert_item
from tests.factories import CategoryFactory
from tests.notifications.helpers import FAR, phone
from tests.worker_support import push_worker_fixtures, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.slow]

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/8")


push_worker, worker = push_worker_fixtures(BROKER_URL)


def test_drill_end_to_end_reaches_enrolled_devices_only_and_the_report_matches(worker, fake_fcm):
    category = CategoryFactory(slug="securite")
    # Bystanders: a crowd around the alert following its category, and a near phone.
    create_devices(400, prefix="crowd-", category_id=category.pk, grid=(3, 3))
    bystander = phone(follows=[category])
    # Test devices: a phone enrolled through its code (far away: drills ignore geography),
    # an English one, a muted one, and twenty of the crowd enrolled by the staff.
    far = phone(at=FAR)
    english = phone(language="en")
    muted = phone(notifications_enabled=False)
    for device in (far, english, muted):
        code, _expires = drill_code_create(device=device)
        drill_enrol(code=code)
    crowd = list(Device.objects.filter(push_token__startswith="crowd-").order_by("pk")[:20])
    for device in crowd:
        code, _expires = drill_code_create(device=device)
        drill_enrol(code=code)
    assert DrillEnrolment.objects.enrolled().count() == 23

    item = alert_item(exercise=True, category=category)
    content_publish(item=item)  # commits; dispatch goes to Redis on commit

    notification = Notification.objects.get(kind=Kind.NEW, item_type="news", item_id=item.pk)
    assert notification.exercise

    def settled() -> bool:
        rows = Delivery.objects.filter(notification=notification)
        return (
            rows.exists()
            and not rows.filter(
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
            ).exists()
        )

    wait_for(settled, worker, 60)
    expected = {far.push_token, english.push_token} | {d.push_token for d in crowd}
    delivered = dict(fake_fcm.recorder.delivered)
    assert set(delivered) == expected
    assert set(delivered.values()) == {1}
    received = set(fake_fcm.recorder.received)
    assert bystander.push_token not in received and muted.push_token not in received
    assert not any(token.startswith("crowd-") and token not in expected for token in received), (
        "a non-enrolled device got the drill"
    )
    by_token = {m["token"]: m["message"] for m in fake_fcm.messages}
    for token in expected:
        message = by_token[token]
        assert message["notification"]["title"].startswith("EXERCICE — ")
        assert message["notification"]["body"].startswith("EXERCICE — ")
    assert CapMessage.objects.get(item_id=item.pk).status == "Exercise"

    # The report, produced as for a real alert, equals the deliveries.
    report = alert_report(notification)
    rows = Delivery.objects.filter(notification=notification)
    assert report.raw["targeted"] == rows.count() == notification.targeted == 22
    assert report.raw["sent"] == rows.filter(status=DeliveryStatus.SENT).count() == 22
    assert report.raw["failed"] == 0 and report.raw["held"] == 0
    assert report.raw["in_flight"] == 0
    assert all(report.reached_s[p] is not None for p in (50, 90, 99, 100))
    assert report.reached_s[50] <= report.reached_s[90] <= report.reached_s[100]
    last = rows.order_by("-sent_at").values_list("sent_at", flat=True)[0]
    notification.refresh_from_db()
    assert notification.created_at <= notification.committed_at <= last  # the commit's stamp
    assert report.reached_s[100] == pytest.approx(
        (last - notification.committed_at).total_seconds()
    )
    # Shown rounded to 5: 22 devices read as 20 or 25.
    assert report.shown["targeted"] in {"20", "25"}
    assert report_csv(report).decode("utf-8-sig").startswith("section;")
    assert report_pdf(report).startswith(b"%PDF")
    assert token_for("crowd-", 1)  # the crowd's tokens are the harness's
