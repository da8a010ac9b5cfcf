"""A rédacteur's alert waits for a validateur's approval before any push leaves (issue 16, 5).

Chromium through Playwright on the live test server, offline (tests/admin/test_browser.py's
``OfflinePage``). Screenshots of each step go to ``test-artifacts/approval/`` (ignored by git):
look at them when the approval box changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.core.models import ApprovalRequest, ApprovalState, Status, Urgency
from apps.news.models import News
from apps.notifications.models import Delivery, Notification
from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401  (the fixture)
from tests.notifications.conftest import log_backend  # noqa: F401  (the fixture)
from tests.notifications.helpers import phone

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("log_backend"),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "approval"
TITLE = "Fuite de gaz rue Garibaldi"


def test_writer_alert_waits_for_a_validator_before_any_push_leaves(
    chromium,  # noqa: F811
    live_server,
    city_writer,
    city_validator,
    mobility,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    devices = [phone(), phone()]

    writer = OfflinePage(chromium, live_server.url)
    try:
        writer.login(city_writer.username)
        page = writer.page
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto("/admin/news/news/add/")
        page.fill("#id_title_fr", TITLE)
        page.fill("#id_summary_fr", "Évacuez le secteur, suivez les consignes des pompiers.")
        page.select_option("#id_category", str(mobility.pk))
        page.select_option("#id_urgency", str(Urgency.ALERT.value))
        page.check("#id_notify")
        request_button = page.locator("button[name=_lifecycle][value=publish]")
        expect(request_button).to_have_text("Enregistrer et demander la publication")
        request_button.click()

        expect(page.locator("ul.messagelist li.warning")).to_contain_text(
            "demande de validation envoyée aux validateurs"
        )
        box = page.locator("#approval-pending")
        expect(box).to_contain_text("En attente de validation")
        expect(box).to_contain_text("notification d'alerte")
        expect(box).to_contain_text("demandée par un rédacteur")
        expect(page.locator("#approval-approve")).to_have_count(0)  # not the requester's call
        page.screenshot(path=ARTIFACTS / "1-writer-request-sent.png", full_page=True)
    finally:
        writer.close()

    news = News.objects.get(title_fr=TITLE)
    assert news.status == Status.DRAFT
    request = ApprovalRequest.objects.get(item_id=news.pk)
    assert request.state == ApprovalState.PENDING and request.requested_by == city_writer
    # Nothing has left: no notification, no delivery row in the outbox.
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()

    validator = OfflinePage(chromium, live_server.url)
    try:
        validator.login(city_validator.username)
        page = validator.page
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto("/admin/core/approvalrequest/")
        row = page.locator("#result_list tbody tr", has_text=TITLE)
        expect(row).to_contain_text("En attente de validation")
        expect(row).to_contain_text("lucas")
        page.screenshot(path=ARTIFACTS / "2-validator-request-list.png", full_page=False)
        row.locator(f"a:text-is('{TITLE}')").click()

        expect(page.locator("#approval-pending")).to_contain_text("Demandée par Lucas Petit")
        page.screenshot(path=ARTIFACTS / "3-validator-item-pending.png", full_page=False)
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#approval-approve")

        expect(page.locator("ul.messagelist li.success")).to_contain_text(
            f"Demande approuvée : « {TITLE} » est publié."
        )
        history = page.locator("#approval-history")
        expect(history).to_contain_text("Approuvée")
        expect(history).to_contain_text("Nadia Roux")
        expect(page.locator("#approval-pending")).to_have_count(0)
        page.screenshot(path=ARTIFACTS / "4-validator-approved.png", full_page=True)
    finally:
        validator.close()

    news.refresh_from_db()
    assert news.status == Status.PUBLISHED
    notification = Notification.objects.get(item_id=news.pk)
    assert notification.urgency == Urgency.ALERT
    assert sorted(Delivery.objects.values_list("device_id", flat=True)) == sorted(
        device.pk for device in devices
    )
    request.refresh_from_db()
    assert request.state == ApprovalState.APPROVED and request.decided_by == city_validator


def test_validator_refuses_with_a_reason_the_writer_reads_it_on_the_item(
    chromium,  # noqa: F811
    live_server,
    city_writer,
    city_validator,
    mobility,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    news = News.objects.create(
        organization=city_validator.memberships.get().organization,
        category=mobility,
        title_fr="Coupure d'eau générale",
        urgency=Urgency.IMPORTANT,
        notify=True,
    )
    from apps.core.services import content_publish

    content_publish(item=news, user=city_writer)

    validator = OfflinePage(chromium, live_server.url)
    try:
        validator.login(city_validator.username)
        page = validator.page
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"/admin/news/news/{news.pk}/change/")
        page.click("#approval-refuse")  # no reason: refused, nothing changes
        expect(page.locator("ul.messagelist li.error")).to_contain_text(
            "Indiquez le motif du refus."
        )
        page.fill("#id_refusal_reason", "Seule la rue Pasteur est concernée : tracez-la.")
        page.click("#approval-refuse")
        expect(page.locator("ul.messagelist li.success")).to_contain_text("Demande refusée")
    finally:
        validator.close()

    writer = OfflinePage(chromium, live_server.url)
    try:
        writer.login(city_writer.username)
        page = writer.page
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"/admin/news/news/{news.pk}/change/")
        history = page.locator("#approval-history")
        expect(history).to_contain_text("Refusée")
        expect(history).to_contain_text("Seule la rue Pasteur est concernée : tracez-la.")
        page.screenshot(path=ARTIFACTS / "5-writer-reads-refusal.png", full_page=False)
    finally:
        writer.close()
    news.refresh_from_db()
    assert news.status == Status.DRAFT
    assert not Notification.objects.exists()
