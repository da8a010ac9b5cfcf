"""The crisis cell's admin: test devices enrolled with the phone's code, the delivery report
(page, CSV, PDF, chart; live while in flight; scoped to the editor's organizations), the CAP
sources and what came of them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.alerts.models import CapSource
from apps.core.services import content_publish
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.residents.models import Device, DrillEnrolment
from apps.residents.services import drill_code_create
from testing.capfeed import FakeCapSource
from tests.alerts.support import alert_item, commune
from tests.alerts.test_cap_in import data
from tests.notifications.helpers import phone
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


def test_admin_staff_enrol_a_test_device_with_the_code_it_shows(client, superuser):
    staff_login(client, superuser)
    device = phone()
    code, _expires = drill_code_create(device=device)
    response = client.post(
        "/admin/residents/drillenrolment/add/", {"code": code, "label": "Astreinte 1"}
    )
    assert response.status_code == 302, response.content[:500]
    enrolment = DrillEnrolment.objects.enrolled().get()
    assert enrolment.device == device and enrolment.enrolled_by == superuser
    assert enrolment.label == "Astreinte 1"
    listing = client.get("/admin/residents/drillenrolment/")
    assert "Astreinte 1" in listing.content.decode()
    # A wrong code enrols nothing.
    assert (
        client.post("/admin/residents/drillenrolment/add/", {"code": "ZZZZZ-ZZZZZ"}).status_code
        == 403
    )
    # Deleting the line takes the phone out of the drills.
    client.post(
        "/admin/residents/drillenrolment/",
        {"action": "delete_selected", "_selected_action": [enrolment.pk], "post": "yes"},
    )
    assert not Device.objects.drill_enrolled().exists()


def _published_alert_with_deliveries(organization=None):
    kwargs = {"organization": organization} if organization else {}
    item = alert_item(**kwargs)
    for _n in range(12):
        phone()
    content_publish(item=item)
    notification = Notification.objects.get(kind=Kind.NEW, item_id=item.pk)
    rows = list(Delivery.objects.filter(notification=notification).order_by("pk"))
    now = timezone.now()
    for row in rows[:10]:
        row.status, row.sent_at = DeliveryStatus.SENT, now
        row.save(update_fields=["status", "sent_at"])
    return notification


def test_admin_report_page_exports_and_live_view(client, superuser, django_assert_max_num_queries):
    notification = _published_alert_with_deliveries()
    staff_login(client, superuser)
    listing = client.get("/admin/alerts/alertreport/")
    assert "Crue de la Saône" in listing.content.decode()
    page = client.get(f"/admin/alerts/alertreport/{notification.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Remises à FCM" in body and "Délai jusqu" in body
    assert 'http-equiv="refresh"' in body  # two deliveries still pending: the live view reloads
    csv = client.get(f"/admin/alerts/alertreport/{notification.pk}/csv/")
    assert csv["Content-Type"] == "text/csv"
    text = csv.content.decode("utf-8-sig")
    assert "Appareils ciblés;10" in text or "Appareils ciblés;15" in text  # 12, rounded to 5
    pdf = client.get(f"/admin/alerts/alertreport/{notification.pk}/pdf/")
    assert pdf.content.startswith(b"%PDF")
    chart = client.get(f"/admin/alerts/alertreport/{notification.pk}/chart.png")
    assert chart.content.startswith(b"\x89PNG")
    # Once everything is handed over, the page stops reloading.
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now()
    )
    with django_assert_max_num_queries(25):
        done = client.get(f"/admin/alerts/alertreport/{notification.pk}/change/")
    assert 'http-equiv="refresh"' not in done.content.decode()


def test_admin_report_is_scoped_to_the_editors_organizations(client, metropole_editor, city):
    notification = _published_alert_with_deliveries(organization=city)
    staff_login(client, metropole_editor)
    assert client.get(f"/admin/alerts/alertreport/{notification.pk}/change/").status_code == 404
    assert client.get(f"/admin/alerts/alertreport/{notification.pk}/csv/").status_code == 404


def test_admin_cap_source_poll_now(client, superuser, city, mobility):
    commune()
    with FakeCapSource() as fake:
        fake.publish("/storm.xml", data("storm_alert.xml"))
        source = CapSource.objects.create(
            name="Vigilance",
            url=fake.feed("/feed.atom", ["/storm.xml"]),
            kind="feed",
            organization=city,
            category=mobility,
        )
        staff_login(client, superuser)
        response = client.post(
            "/admin/alerts/capsource/",
            {"action": "poll_now", "_selected_action": [source.pk]},
            follow=True,
        )
    assert "1 brouillon(s)" in response.content.decode()
    inbound = client.get("/admin/alerts/capinbound/")
    assert "FR-VIGI-2026-12-07-001" in inbound.content.decode()
