"""Notification statistics in the admin: counts from real deliveries and opens, aggregates only,
a constant number of queries on the list, read-only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.core.services import content_publish
from apps.notifications.admin.notifications import NotificationAdmin
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.notifications.selectors import notification_stats
from tests.disclosure_support import shown_for
from tests.factories import NewsFactory, WorksFactory
from tests.notifications.helpers import FAR, phone

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


def change_url(notification: Notification) -> str:
    return reverse("admin:notifications_notification_change", args=[notification.pk])


def quiet_now() -> dict:
    """Quiet hours from an hour ago to an hour from now (city time)."""
    local = timezone.localtime()
    return {
        "quiet_hours_start": (local - timedelta(hours=1)).time().replace(microsecond=0),
        "quiet_hours_end": (local + timedelta(hours=1)).time().replace(microsecond=0),
    }


def opened(fake_fcm, device, notification) -> bool:
    """The resident opened ``notification``'s push: the app reports the open with the ticket
    the push carried (``POST /api/v1/opens/``, no credentials). A device that never received
    the push has no ticket and reports a made-up one. Returns whether it counted."""
    tickets = [
        m["message"]["data"]["open_ticket"]
        for m in fake_fcm.messages
        if m["token"] == device.push_token
        and m["message"]["data"].get("notification_id") == str(notification.pk)
    ]
    ticket = tickets[-1] if tickets else "made-up-ticket-0000"
    response = Client().post(
        "/api/v1/opens/",
        {"notification_id": notification.pk, "ticket": ticket},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["counted"]


def cell(html: str, column: str, row: int) -> str:
    """The text of ``column`` in the ``row``-th line of the change list."""
    cells = re.findall(rf'<td class="field-{column}[^"]*">(.*?)</td>', html, re.S)
    return cells[row]


@pytest.fixture
def sent_works(fcm_settings, fake_fcm, city, mobility, culture, django_capture_on_commit_callbacks):
    """A roadwork pushed through the fake FCM to 23 phones: 7 sent, 5 dead tokens, 5 in
    their quiet hours, 6 over their daily cap (they got a culture push just before)."""
    consent = {"personalization_consent": True}
    phones = {
        "sent": [phone(follows=[mobility], **consent) for _ in range(7)],
        "dead": [phone(follows=[mobility], **consent) for _ in range(5)],
        "quiet": [phone(follows=[mobility], **quiet_now(), **consent) for _ in range(5)],
        "capped": [
            phone(follows=[mobility, culture], max_pushes_per_day=1, **consent) for _ in range(6)
        ],
        "far": [phone(at=FAR, follows=[mobility], **consent)],
    }
    fake_fcm.set_faults(unregistered=[d.push_token for d in phones["dead"]])
    earlier = WorksFactory(organization=city, category=culture, notify=True, title_fr="Avant")
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=earlier)
    works = WorksFactory(organization=city, category=mobility, notify=True, title_fr="Chantier")
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works)
    notification = Notification.objects.get(item_type="works", item_id=works.pk)
    return works, notification, phones


def test_statistics_are_counted_from_the_deliveries_and_the_opens(sent_works, fake_fcm):
    _works, notification, phones = sent_works
    for device in phones["sent"][:5]:
        assert opened(fake_fcm, device, notification)
    assert not opened(fake_fcm, phones["sent"][0], notification)  # twice: the ticket is used
    assert not opened(fake_fcm, phones["capped"][0], notification)  # never received it
    assert not opened(fake_fcm, phones["far"][0], notification)
    assert not opened(fake_fcm, phones["dead"][0], notification)  # its push failed
    notification.refresh_from_db()

    stats = notification_stats([notification])[notification.pk]

    assert stats.targeted == 23
    assert stats.sent == 7
    assert stats.failed == 5
    assert stats.failed_reasons == [("Jeton invalide", 5)]
    assert stats.held == 5
    assert stats.capped == 6
    assert stats.skipped_reasons == [("Plafond quotidien (résumé)", 6)]
    assert stats.in_flight == 0
    assert stats.opened == 5
    # the same numbers, straight from the rows
    rows = Delivery.objects.filter(notification=notification)
    assert rows.filter(status=DeliveryStatus.SENT).count() == 7
    assert rows.filter(status=DeliveryStatus.FAILED, reason=Reason.DEAD_TOKEN).count() == 5
    assert rows.filter(status=DeliveryStatus.SKIPPED, reason=Reason.CAPPED).count() == 6


def test_changelist_shows_each_notifications_counts(sent_works, superuser_client, fake_fcm):
    works, notification, phones = sent_works
    for device in phones["sent"][:6]:
        assert opened(fake_fcm, device, notification)

    response = superuser_client.get(CHANGELIST, {"kind__exact": Kind.NEW})

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["cl"].result_list[0] == notification  # newest first
    row = {
        column: cell(html, column, 0)
        for column in ("targeted_count", "sent_count", "failed_count", "held_count")
    }
    targeted = [d for group in ("sent", "dead", "quiet", "capped") for d in phones[group]]
    assert row == {  # rounded to 5, each by the key of its own devices
        "targeted_count": shown_for(targeted),
        "sent_count": shown_for(phones["sent"]),
        "failed_count": "5",
        "held_count": "5",
    }
    assert cell(html, "capped_count", 0) == shown_for(phones["capped"])
    # 6 of the 7 opened: "opened" would give away the one that did not (7 - 6), so it is
    # masked with it (complementary suppression)
    assert cell(html, "opened_count", 0) == "masqué"
    assert f"Travaux n° {works.pk}" in cell(html, "item_link", 0)
    # the earlier push reached the 6 capped phones, none opened it
    assert cell(html, "sent_count", 1) == shown_for(phones["capped"])
    assert cell(html, "opened_count", 1) == "masqué"


def test_change_view_shows_statistics_and_never_a_device(sent_works, superuser_client, fake_fcm):
    _works, notification, phones = sent_works
    assert opened(fake_fcm, phones["sent"][0], notification)

    response = superuser_client.get(change_url(notification))

    html = response.content.decode()
    assert response.status_code == 200
    rows = dict(
        (label.replace("&nbsp;&nbsp;— ", "").strip(), value)
        for label, value in re.findall(
            r'<tr(?: class="detail")?><th scope="row">(.*?)</th><td class="count">(.*?)</td>',
            html,
        )
    )
    targeted = [d for group in ("sent", "dead", "quiet", "capped") for d in phones[group]]
    assert rows == {  # rounded to 5 by the key of each set of devices; every reason listed
        "Appareils ciblés": shown_for(targeted),
        "Envoyées": shown_for(phones["sent"]),
        "Ouvertes depuis la notification": "masqué",
        "Retenues (heures calmes, en attente)": "5",
        "En attente ou en cours d&#x27;envoi": "masqué",
        "Non envoyées": shown_for(phones["capped"]),
        "Plus de jeton actif": "masqué",
        "Notifications désactivées": "masqué",
        "Plafond quotidien (résumé)": shown_for(phones["capped"]),
        "Budget hebdomadaire (résumé)": "masqué",
        "Contenu retiré avant l&#x27;envoi": "masqué",
        "Échecs": "5",
        "Jeton invalide": "5",
        "Message refusé": "masqué",
        "Authentification FCM refusée": "masqué",
        "Trop de tentatives": "masqué",
    }
    assert "Chantier" in html
    for device in (d for group in phones.values() for d in group):
        assert device.push_token not in html
        assert f"appareil {device.pk}" not in html
    assert 'name="_save"' not in html  # read-only


def test_small_counts_are_masked(
    log_backend, superuser_client, city, mobility, django_capture_on_commit_callbacks
):
    for _ in range(3):
        phone(follows=[mobility])
    news = NewsFactory(organization=city, category=mobility, notify=True)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=news)

    html = superuser_client.get(CHANGELIST).content.decode()

    assert cell(html, "targeted_count", 0) == "masqué"
    assert cell(html, "sent_count", 0) == "masqué"


#: Session, user, the verified TOTP device (django-otp), Django's two counts (filtered and
#: total), the page, the statistics of the page (the opens are the notifications' own counters),
#: the memberships (sidebar), the warnings banner: one late-send query per content type and one
#: for stuck deliveries.
CHANGELIST_QUERIES = 12


@pytest.mark.parametrize("count", [2, 9])
def test_changelist_queries_do_not_grow_with_rows(
    count,
    log_backend,
    superuser_client,
    city,
    mobility,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    for _ in range(5):
        phone(follows=[mobility], max_pushes_per_day=50, info_per_week=50)
    for _ in range(count):
        item = NewsFactory(organization=city, category=mobility, notify=True)
        with django_capture_on_commit_callbacks(execute=True):
            content_publish(item=item)

    with django_assert_num_queries(CHANGELIST_QUERIES):
        response = superuser_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == count
    assert all(n.stats.sent == 5 for n in response.context["cl"].result_list)


@pytest.mark.parametrize("count", [2, 9])
def test_editor_changelist_queries_do_not_grow_with_rows(
    count,
    log_backend,
    editor_client,
    city,
    mobility,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    phone(follows=[mobility], max_pushes_per_day=50, info_per_week=50)
    for _ in range(count):
        item = NewsFactory(organization=city, category=mobility, notify=True)
        with django_capture_on_commit_callbacks(execute=True):
            content_publish(item=item)

    # + Django's two permission lookups (sidebar) for a user who is not a superuser
    with django_assert_num_queries(CHANGELIST_QUERIES + 2):
        response = editor_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == count


def test_nothing_can_be_added_changed_or_deleted(sent_works, superuser_client, rf, superuser):
    _works, notification, _phones = sent_works
    request = rf.get("/")
    request.user = superuser
    model_admin = NotificationAdmin(Notification, admin_site=None)  # type: ignore[arg-type]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, notification)
    assert not model_admin.has_delete_permission(request, notification)
    add = superuser_client.get(reverse("admin:notifications_notification_add"))
    delete = superuser_client.post(
        reverse("admin:notifications_notification_delete", args=[notification.pk]),
        {"post": "yes"},
    )
    posted = superuser_client.post(change_url(notification), {"kind": "test"})
    assert add.status_code == 403
    assert delete.status_code == 403
    assert posted.status_code == 403
    assert Notification.objects.filter(pk=notification.pk, kind=Kind.NEW).exists()
