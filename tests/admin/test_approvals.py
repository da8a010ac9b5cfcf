"""The two-person rule in the admin: asking, the box on the item, approving, refusing, the list."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from apps.core.models import ApprovalRequest, ApprovalState, Status, Urgency
from apps.notifications.models import Notification
from tests.admin.conftest import admin_url
from tests.factories import NewsFactory
from tests.notifications.conftest import log_backend  # noqa: F401 (a fixture)
from tests.staff import staff_login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def alert_news(city, mobility):
    return NewsFactory(
        organization=city, category=mobility, urgency=Urgency.ALERT, notify=True, title_fr="Gaz"
    )


@pytest.fixture
def writer_client(city_writer):
    return staff_login(Client(), city_writer)


@pytest.fixture
def validator_client(city_validator):
    return staff_login(Client(), city_validator)


def _approve_url(item, decision: str) -> str:
    return reverse("admin:news_news_approval", args=[item.pk, decision])


def test_admin_writer_publish_action_asks_for_approval(writer_client, alert_news):
    response = writer_client.post(
        admin_url("news", "changelist"),
        {"action": "publish_selected", "_selected_action": [alert_news.pk]},
    )
    alert_news.refresh_from_db()
    assert alert_news.status == Status.DRAFT
    assert ApprovalRequest.objects.get().state == ApprovalState.PENDING
    assert not Notification.objects.exists()
    assert any("demande de validation envoyée" in m for m in _messages(response))
    assert not any("publié" in m and "contenu" in m for m in _messages(response))


def test_admin_writer_sees_request_buttons_and_the_pending_box(writer_client, alert_news):
    page = writer_client.get(admin_url("news", "change", alert_news.pk)).content.decode()
    assert "Enregistrer et demander la publication" in page
    assert "Enregistrer et publier" not in page
    writer_client.post(
        admin_url("news", "changelist"),
        {"action": "publish_selected", "_selected_action": [alert_news.pk]},
    )
    page = writer_client.get(admin_url("news", "change", alert_news.pk)).content.decode()
    assert 'id="approval-pending"' in page
    assert "notification d&#x27;alerte, demandée par un rédacteur" in page
    assert 'id="approval-approve"' not in page  # the requester cannot decide
    assert "Enregistrer et retirer la demande de validation" in page
    assert "demander la publication" not in page  # one request at a time


def test_admin_validator_approves_from_the_item_and_the_push_leaves(
    writer_client, validator_client, alert_news, django_capture_on_commit_callbacks
):
    writer_client.post(
        admin_url("news", "changelist"),
        {"action": "publish_selected", "_selected_action": [alert_news.pk]},
    )
    page = validator_client.get(admin_url("news", "change", alert_news.pk)).content.decode()
    assert 'id="approval-approve"' in page and 'id="approval-refuse"' in page
    assert f'formaction="{_approve_url(alert_news, "approve")}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = validator_client.post(_approve_url(alert_news, "approve"))
    assert response.status_code == 302
    alert_news.refresh_from_db()
    assert alert_news.status == Status.PUBLISHED
    assert Notification.objects.filter(item_id=alert_news.pk).count() == 1
    assert "Demande approuvée : « Gaz » est publié." in _messages(response)
    page = validator_client.get(admin_url("news", "change", alert_news.pk)).content.decode()
    assert 'id="approval-pending"' not in page
    assert "Approuvée" in page and "Nadia Roux" in page and "Lucas Petit" in page


def test_admin_refusal_needs_a_reason_and_shows_on_the_item(
    writer_client, validator_client, alert_news
):
    writer_client.post(
        admin_url("news", "changelist"),
        {"action": "publish_selected", "_selected_action": [alert_news.pk]},
    )
    response = validator_client.post(_approve_url(alert_news, "refuse"), {"refusal_reason": " "})
    assert "Indiquez le motif du refus." in _messages(response)
    assert ApprovalRequest.objects.get().state == ApprovalState.PENDING
    validator_client.post(
        _approve_url(alert_news, "refuse"), {"refusal_reason": "Pas une urgence : en info."}
    )
    alert_news.refresh_from_db()
    assert alert_news.status == Status.DRAFT
    page = writer_client.get(admin_url("news", "change", alert_news.pk)).content.decode()
    assert "Refusée" in page and "Pas une urgence : en info." in page
    assert not Notification.objects.exists()


def test_admin_requester_cannot_decide_even_by_posting(editor_client, city_editor, alert_news):
    editor_client.post(
        admin_url("news", "changelist"),
        {"action": "publish_selected", "_selected_action": [alert_news.pk]},
    )
    assert ApprovalRequest.objects.get().requested_by == city_editor
    response = editor_client.post(_approve_url(alert_news, "approve"))
    assert any("propre demande" in m for m in _messages(response))
    alert_news.refresh_from_db()
    assert alert_news.status == Status.DRAFT
    assert not Notification.objects.exists()


def test_admin_decision_is_post_only_and_scoped(
    writer_client, alert_news, metropole_editor, metropole
):
    writer_client.post(
        admin_url("news", "changelist"),
        {"action": "publish_selected", "_selected_action": [alert_news.pk]},
    )
    other = staff_login(Client(), metropole_editor)
    assert other.post(_approve_url(alert_news, "approve")).status_code == 404
    assert writer_client.get(_approve_url(alert_news, "approve")).status_code == 405
    assert ApprovalRequest.objects.get().state == ApprovalState.PENDING


def test_admin_request_list_is_scoped_and_pending_first(
    writer_client,
    validator_client,
    alert_news,
    metropole,
    metropole_editor,
    mobility,
    city_writer,
    django_assert_num_queries,
):
    writer_client.post(
        admin_url("news", "changelist"),
        {"action": "publish_selected", "_selected_action": [alert_news.pk]},
    )
    theirs = NewsFactory(
        organization=metropole, category=mobility, urgency=Urgency.ALERT, notify=True
    )
    from apps.core.services import content_publish

    content_publish(item=theirs, user=metropole_editor)
    for _ in range(3):  # more rows, same number of queries
        extra = NewsFactory(organization=alert_news.organization, category=mobility)
        content_publish(item=extra, user=city_writer)
    url = reverse("admin:core_approvalrequest_changelist")
    validator_client.get(url)  # warm the session and the user's organizations
    with django_assert_num_queries(10):
        page = validator_client.get(url).content.decode()
    assert "Gaz" in page and theirs.title_fr not in page
    assert reverse("admin:news_news_change", args=[alert_news.pk]) in page
    # Decided requests leave the default list.
    validator_client.post(_approve_url(alert_news, "approve"), follow=True)
    link = reverse("admin:news_news_change", args=[alert_news.pk])
    assert link not in validator_client.get(url).content.decode()
    assert link in validator_client.get(url + "?state__exact=approved").content.decode()
