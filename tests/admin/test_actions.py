"""Lifecycle actions and change-form buttons: each item through its service, errors per item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.core.models import Status, Tombstone
from apps.core.services import content_publish
from apps.events.models import EventStatus
from apps.works.models import WorkStatus
from tests.admin.conftest import FACTORIES, admin_url
from tests.admin.formdata import form_data

pytestmark = pytest.mark.django_db


def _act(client, type_code: str, action: str, *items, follow: bool = False):
    return client.post(
        admin_url(type_code, "changelist"),
        {"action": action, "_selected_action": [item.pk for item in items]},
        follow=follow,
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("type_code", ["news", "works", "events"])
def test_publish_action_publishes_and_logs(type_code, editor_client, city_items):
    item = city_items[type_code]

    response = _act(editor_client, type_code, "publish_selected", item)

    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    assert item.published_at is not None
    assert "1 contenu publié." in _messages(response)
    assert LogEntry.objects.filter(object_id=str(item.pk), action_flag=CHANGE).exists()


def test_publish_action_reports_each_refusal_and_goes_on(editor_client, city, mobility):
    fresh = FACTORIES["news"](organization=city, category=mobility, title_fr="Fraîche")
    expired = FACTORIES["news"](
        organization=city,
        category=mobility,
        title_fr="Périmée",
        publish_at=timezone.now() - timedelta(days=3),
        expires_at=timezone.now() - timedelta(days=1),
    )

    response = _act(editor_client, "news", "publish_selected", fresh, expired)

    fresh.refresh_from_db()
    expired.refresh_from_db()
    assert (fresh.status, expired.status) == (Status.PUBLISHED, Status.DRAFT)
    messages = _messages(response)
    assert "1 contenu publié." in messages
    assert any(m.startswith("« Périmée » : Ce contenu a déjà expiré") for m in messages)


def test_archive_action(editor_client, city_items):
    published, draft = city_items["news"], city_items["works"]
    content_publish(item=published)

    _act(editor_client, "news", "archive_selected", published)
    response = _act(editor_client, "works", "archive_selected", draft)

    published.refresh_from_db()
    draft.refresh_from_db()
    assert published.status == Status.ARCHIVED
    assert draft.status == Status.DRAFT
    assert any("Seul un contenu publié peut être archivé." in m for m in _messages(response))


def test_unpublish_action_back_to_draft_with_tombstone(editor_client, city_items):
    news = city_items["news"]
    content_publish(item=news)

    _act(editor_client, "news", "unpublish_selected", news)

    news.refresh_from_db()
    assert (news.status, news.publish_at) == (Status.DRAFT, None)
    assert Tombstone.objects.filter(item_type="news", item_id=news.pk).exists()


def test_schedule_action_asks_for_a_date_then_schedules(editor_client, city_items):
    news, works = city_items["news"], city_items["works"]
    when = timezone.localtime() + timedelta(days=2)

    response = _act(editor_client, "news", "schedule_selected", news)
    assert response.status_code == 302
    page = editor_client.get(response["Location"])
    assert page.status_code == 200
    assert "Ville news" in page.content.decode()
    response = editor_client.post(
        response["Location"], {"publish_at": when.strftime("%Y-%m-%dT%H:%M")}
    )

    assert response.status_code == 302
    assert response["Location"] == admin_url("news", "changelist")
    news.refresh_from_db()
    assert news.status == Status.SCHEDULED
    assert news.publish_at == when.replace(second=0, microsecond=0)
    works.refresh_from_db()
    assert works.status == Status.DRAFT


@pytest.mark.parametrize(
    "value,message",
    [
        ("2001-01-01T08:00", "La date de publication doit être dans le futur."),
        ("demain matin", "Saisissez une date et une heure valides."),
        ("", "Ce champ est obligatoire."),
    ],
)
def test_schedule_page_refuses_bad_dates(value, message, editor_client, city_items):
    news = city_items["news"]
    url = admin_url("news", "schedule") + f"?ids={news.pk}"

    response = editor_client.post(url, {"publish_at": value})

    assert response.status_code == 200
    assert message in response.content.decode()
    news.refresh_from_db()
    assert news.status == Status.DRAFT


def test_schedule_reports_items_the_service_refuses(editor_client, city_items):
    news = city_items["news"]
    content_publish(item=news)
    url = admin_url("news", "schedule") + f"?ids={news.pk}"
    when = timezone.localtime() + timedelta(days=2)

    response = editor_client.post(url, {"publish_at": when.strftime("%Y-%m-%dT%H:%M")})

    assert any("Ce contenu est déjà publié." in m for m in _messages(response))
    news.refresh_from_db()
    assert news.status == Status.PUBLISHED


def test_works_cancel_action(editor_client, city, mobility):
    running = FACTORIES["works"](organization=city, category=mobility, title_fr="En cours")
    finished = FACTORIES["works"](
        organization=city,
        category=mobility,
        title_fr="Fini",
        work_status=WorkStatus.COMPLETED,
        start_at=timezone.now() - timedelta(days=9),
        end_at=timezone.now() - timedelta(days=1),
    )

    response = _act(editor_client, "works", "cancel_selected", running, finished)

    running.refresh_from_db()
    finished.refresh_from_db()
    assert (running.work_status, finished.work_status) == (
        WorkStatus.CANCELLED,
        WorkStatus.COMPLETED,
    )
    messages = _messages(response)
    assert "1 chantier annulé." in messages
    assert any(
        "« Fini » : Des travaux terminés ne peuvent pas être annulés." in m for m in messages
    )


def test_event_cancel_and_postpone_actions(editor_client, city, mobility):
    first = FACTORIES["events"](organization=city, category=mobility)
    second = FACTORIES["events"](organization=city, category=mobility)

    _act(editor_client, "events", "cancel_selected", first)
    _act(editor_client, "events", "postpone_selected", second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.event_status == EventStatus.CANCELLED
    assert first.sequence == 1  # event_save bumped the iCalendar SEQUENCE
    assert second.event_status == EventStatus.POSTPONED


# --- change-form buttons ------------------------------------------------------------------


def test_save_and_publish_button(editor_client, city_items):
    works = city_items["works"]
    data = form_data(editor_client.get(admin_url("works", "change", works.pk)), "works_form")
    data.update(title_fr="Chantier renommé", _lifecycle="publish")

    response = editor_client.post(admin_url("works", "change", works.pk), data)

    assert response.status_code == 302
    assert response["Location"] == admin_url("works", "change", works.pk)
    works.refresh_from_db()
    assert (works.title_fr, works.status) == ("Chantier renommé", Status.PUBLISHED)


def test_save_and_schedule_button_goes_to_the_schedule_page_and_back(editor_client, city_items):
    news = city_items["news"]
    data = form_data(editor_client.get(admin_url("news", "change", news.pk)), "news_form")
    data["_lifecycle"] = "schedule"

    response = editor_client.post(admin_url("news", "change", news.pk), data)

    assert response.status_code == 302
    assert response["Location"] == admin_url("news", "schedule") + f"?ids={news.pk}&from=change"
    when = timezone.localtime() + timedelta(days=1)
    response = editor_client.post(
        response["Location"], {"publish_at": when.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response["Location"] == admin_url("news", "change", news.pk)
    news.refresh_from_db()
    assert news.status == Status.SCHEDULED


def test_buttons_follow_the_status(editor_client, city_items):
    news = city_items["news"]

    def buttons():
        page = editor_client.get(admin_url("news", "change", news.pk))
        return [t.code for t in page.context["lifecycle_buttons"]]

    assert buttons() == ["publish", "schedule"]
    content_publish(item=news)
    assert buttons() == ["archive", "unpublish"]
    # Leaving the public set asks for a confirmation first.
    page = editor_client.get(admin_url("news", "change", news.pk)).content.decode()
    assert "return window.confirm('Archiver ce contenu ?" in page
    add_page = editor_client.get(admin_url("works", "add"))
    assert [t.code for t in add_page.context["lifecycle_buttons"]] == ["publish", "schedule"]


def test_button_with_a_refused_transition_keeps_the_saved_changes(editor_client, city, mobility):
    expired = FACTORIES["news"](
        organization=city,
        category=mobility,
        publish_at=timezone.now() - timedelta(days=3),
        expires_at=timezone.now() - timedelta(days=1),
    )
    data = form_data(editor_client.get(admin_url("news", "change", expired.pk)), "news_form")
    data.update(summary_fr="Nouveau chapeau", _lifecycle="publish")

    response = editor_client.post(admin_url("news", "change", expired.pk), data)

    assert response.status_code == 302
    expired.refresh_from_db()
    assert (expired.summary_fr, expired.status) == ("Nouveau chapeau", Status.DRAFT)
    assert any("a déjà expiré" in m for m in _messages(response))
