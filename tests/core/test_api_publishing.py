"""Publishing API: API keys and staff sessions, scoped to their organization, through services."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import OrganizationApiKey, Status, Tombstone
from apps.core.services import api_key_create, api_key_revoke
from apps.news.models import News
from tests.api_support import key_client, published_news
from tests.factories import CENTRE_LAT, CENTRE_LON, OrganizationFactory
from tests.staff import staff_login

pytestmark = pytest.mark.django_db
URL = "/api/v1/news/"


def _body(**extra):
    body = {
        "title_fr": "Fermeture de la piscine",
        "summary_fr": "Vidange annuelle.",
        "category": "mobilite",
        "geometry": {"type": "Point", "coordinates": [CENTRE_LON, CENTRE_LAT]},
    }
    body.update(extra)
    return body


def test_unauthenticated_write_is_401_and_creates_nothing(mobility):
    response = APIClient().post(URL, _body(), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["error"] == "not_authenticated"
    assert not News.objects.exists()


def test_api_key_creates_a_draft_of_its_organization_through_the_services(city, mobility, centre):
    response = key_client(city).post(URL, _body(title_en="Pool closed"), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    news = News.objects.get(pk=data["id"])
    assert news.organization == city
    assert news.status == Status.DRAFT
    assert news.title_fr == "Fermeture de la piscine" and news.title_en == "Pool closed"
    assert list(news.areas.values_list("slug", flat=True)) == ["centre"]  # computed
    assert data["status"] == "draft" and data["organization"] == "ville"
    assert APIClient().get(f"{URL}{news.pk}/").status_code == 404  # drafts stay private


def test_api_key_publishes_with_status(city, mobility):
    response = key_client(city).post(URL, _body(status="published"), format="json")

    assert response.status_code == 201
    news = News.objects.get(pk=response.json()["id"])
    assert news.status == Status.PUBLISHED and news.published_at is not None
    listed = APIClient().get(URL).json()["results"]
    assert [item["id"] for item in listed] == [news.pk]


def test_scheduling_needs_a_future_publish_at(city, mobility):
    client = key_client(city)
    missing = client.post(URL, _body(status="scheduled"), format="json")
    assert missing.status_code == 400
    assert "publish_at" in missing.json()["fields"]

    later = timezone.now() + timedelta(days=1)
    response = client.post(
        URL, _body(status="scheduled", publish_at=later.isoformat()), format="json"
    )

    assert response.status_code == 201
    news = News.objects.get(pk=response.json()["id"])
    assert news.status == Status.SCHEDULED and news.publish_at == later
    assert APIClient().get(URL).json()["count"] == 0


def test_api_key_cannot_publish_for_another_organization(city, metropole, mobility):
    response = key_client(city).post(URL, _body(organization="metropole"), format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert not News.objects.exists()


def test_api_key_cannot_edit_or_delete_another_organizations_content(city, metropole, mobility):
    theirs = published_news(organization=metropole, category=mobility, title_fr="À eux")
    client = key_client(city)

    patched = client.patch(f"{URL}{theirs.pk}/", {"title_fr": "Piraté"}, format="json")
    deleted = client.delete(f"{URL}{theirs.pk}/")

    assert patched.status_code == 403 and deleted.status_code == 403
    theirs.refresh_from_db()
    assert theirs.title_fr == "À eux" and theirs.status == Status.PUBLISHED
    assert not Tombstone.objects.exists()


def test_api_key_cannot_move_its_content_to_another_organization(city, metropole, mobility):
    ours = published_news(organization=city, category=mobility)
    response = key_client(city).patch(
        f"{URL}{ours.pk}/", {"organization": "metropole"}, format="json"
    )
    assert response.status_code == 403
    ours.refresh_from_db()
    assert ours.organization == city


def test_patch_changes_only_the_fields_sent_and_applies_status(city, mobility):
    ours = published_news(organization=city, category=mobility, title_fr="Avant")
    client = key_client(city)

    response = client.patch(f"{URL}{ours.pk}/", {"summary_fr": "Nouveau résumé"}, format="json")
    assert response.status_code == 200
    ours.refresh_from_db()
    assert ours.summary_fr == "Nouveau résumé" and ours.title_fr == "Avant"

    archived = client.patch(f"{URL}{ours.pk}/", {"status": "archived"}, format="json")
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    tombstone = Tombstone.objects.get(item_type="news", item_id=ours.pk)
    assert tombstone.reason == Tombstone.Reason.ARCHIVED


def test_delete_goes_through_content_delete_and_leaves_a_tombstone(city, mobility):
    ours = published_news(organization=city, category=mobility)

    response = key_client(city).delete(f"{URL}{ours.pk}/")

    assert response.status_code == 204
    assert not News.objects.filter(pk=ours.pk).exists()
    assert Tombstone.objects.get(item_type="news", item_id=ours.pk).reason == "deleted"


def test_revoked_unknown_and_malformed_keys_are_401(city, mobility):
    key, raw = api_key_create(organization=city, name="sig")
    api_key_revoke(key=key)
    headers = {
        "revoked": f"Api-Key {raw}",
        "unknown": f"Api-Key {raw[:-4]}abcd",
        "malformed": "Api-Key not-a-key",
        "extra words": f"Api-Key {raw} more",
    }
    for label, header in headers.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.post(URL, _body(), format="json")
        assert response.status_code == 401, label
        assert response.json()["error"] == "authentication_failed", label
    assert not News.objects.exists()


def test_keys_are_stored_hashed_and_never_in_clear(city):
    key, raw = api_key_create(organization=city, name="sig")

    stored = OrganizationApiKey.objects.filter(pk=key.pk).values().get()
    assert raw not in {str(value) for value in stored.values()}
    assert stored["hashed_key"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored["prefix"] + ".")


def test_key_use_is_recorded(city, mobility):
    key, raw = api_key_create(organization=city, name="sig")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    client.post(URL, _body(), format="json")

    key.refresh_from_db()
    assert key.last_used_at is not None


def test_staff_member_publishes_for_their_organization(city, metropole, city_editor, mobility):
    client = APIClient()
    staff_login(client, city_editor)

    created = client.post(URL, _body(), format="json")
    refused = client.post(URL, _body(organization="metropole"), format="json")

    assert created.status_code == 201
    assert News.objects.get(pk=created.json()["id"]).created_by == city_editor
    assert refused.status_code == 403


def test_staff_without_membership_is_403(mobility):
    from tests.factories import UserFactory

    client = APIClient()
    client.force_login(UserFactory(username="stagiaire"))
    response = client.post(URL, _body(), format="json")
    assert response.status_code == 403
    assert not News.objects.exists()


def test_superuser_names_the_organization_when_there_are_several(
    city, metropole, superuser, mobility
):
    client = APIClient()
    staff_login(client, superuser)

    ambiguous = client.post(URL, _body(), format="json")
    chosen = client.post(URL, _body(organization="metropole"), format="json")

    assert ambiguous.status_code == 400 and "organization" in ambiguous.json()["fields"]
    assert chosen.status_code == 201
    assert News.objects.get().organization == metropole


def test_an_already_expired_item_cannot_be_published(city, mobility):
    past = timezone.now() - timedelta(days=2)
    response = key_client(city).post(
        URL,
        _body(
            status="published",
            publish_at=(past - timedelta(days=1)).isoformat(),
            expires_at=past.isoformat(),
        ),
        format="json",
    )
    assert response.status_code == 400
    assert not News.objects.exists()


def test_service_validation_errors_are_400_and_change_nothing(city, mobility):
    ours = published_news(organization=city, category=mobility)
    response = key_client(city).patch(
        f"{URL}{ours.pk}/",
        {"status": "scheduled", "publish_at": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    )
    # A published item cannot be scheduled (content_schedule refuses): 400, item untouched.
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    ours.refresh_from_db()
    assert ours.status == Status.PUBLISHED


def test_oversized_body_is_413(city, settings):
    body = {"title_fr": "x" * (settings.API_MAX_BODY_BYTES + 10), "category": "mobilite"}
    response = key_client(city).post(URL, body, format="json")
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_publishing_is_throttled_with_retry_after(city, mobility, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "publishing": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = key_client(city)

    codes = [client.post(URL, _body(), format="json").status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    throttled = client.post(URL, _body(), format="json")
    assert throttled.json()["error"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert News.objects.count() == 2
    # Another organization's key has its own budget.
    assert (
        key_client(OrganizationFactory(slug="tcl")).post(URL, _body(), format="json").status_code
        == 201
    )
