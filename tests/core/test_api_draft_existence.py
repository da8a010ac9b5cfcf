"""Another organisation's unpublished items do not exist for a publisher: 404, never 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import Status, Tombstone
from apps.news.models import News
from tests.api_support import key_client, published_news
from tests.factories import NewsFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db
URL = "/api/v1/news/"


def _staff_client(user) -> APIClient:
    client = APIClient()
    staff_login(client, user)
    return client


@pytest.fixture
def their_items(metropole, mobility):
    """The metropole's draft, scheduled and archived items (none of them public)."""
    later = timezone.now() + timedelta(days=3)
    return {
        "draft": NewsFactory(organization=metropole, category=mobility),
        "scheduled": NewsFactory(
            organization=metropole, category=mobility, status=Status.SCHEDULED, publish_at=later
        ),
        "archived": NewsFactory(organization=metropole, category=mobility, status=Status.ARCHIVED),
    }


@pytest.mark.parametrize("kind", ["draft", "scheduled", "archived"])
@pytest.mark.parametrize("caller", ["api_key", "staff"])
def test_content_write_on_another_organizations_hidden_item_is_404(
    city, city_editor, their_items, kind, caller
):
    client = key_client(city) if caller == "api_key" else _staff_client(city_editor)
    item = their_items[kind]
    missing = 10**9

    patched = client.patch(f"{URL}{item.pk}/", {"title_fr": "Vu"}, format="json")
    deleted = client.delete(f"{URL}{item.pk}/")
    nonexistent = client.patch(f"{URL}{missing}/", {"title_fr": "Vu"}, format="json")

    assert patched.status_code == deleted.status_code == 404
    # Indistinguishable from an id that does not exist.
    assert patched.json() == deleted.json() == nonexistent.json()
    item.refresh_from_db()
    assert item.title_fr != "Vu" and item.status == kind
    assert not Tombstone.objects.exists()


def test_content_write_on_another_organizations_public_item_stays_403(city, metropole, mobility):
    theirs = published_news(organization=metropole, category=mobility)

    response = key_client(city).patch(f"{URL}{theirs.pk}/", {"title_fr": "Vu"}, format="json")

    assert response.status_code == 403


def test_content_write_on_own_draft_still_works(city, city_editor, mobility):
    ours = NewsFactory(organization=city, category=mobility)

    by_key = key_client(city).patch(f"{URL}{ours.pk}/", {"title_fr": "Clé"}, format="json")
    by_staff = _staff_client(city_editor).patch(
        f"{URL}{ours.pk}/", {"title_fr": "Équipe"}, format="json"
    )

    assert by_key.status_code == by_staff.status_code == 200
    assert News.objects.get(pk=ours.pk).title_fr == "Équipe"


def test_content_write_superuser_reaches_every_draft(superuser, their_items):
    response = _staff_client(superuser).patch(
        f"{URL}{their_items['draft'].pk}/", {"title_fr": "Admin"}, format="json"
    )

    assert response.status_code == 200
