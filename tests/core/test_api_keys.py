"""Organization API keys: the command, the admin (shown once), revocation, authentication."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.core.models import OrganizationApiKey
from apps.core.models.api_keys import split_api_key
from tests.staff import staff_login

pytestmark = pytest.mark.django_db


def _authenticates(raw: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client.post("/api/v1/news/", {}, format="json").status_code


def test_command_prints_the_key_once_and_stores_its_hash(city):
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_key", "ville", "--name", "SIG voirie", stdout=out, stderr=err)

    raw = out.getvalue().strip()
    key = OrganizationApiKey.objects.get()
    assert split_api_key(raw) is not None
    assert key.organization == city and key.name == "SIG voirie"
    assert key.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in err.getvalue()  # the key goes to stdout only, for scripts
    assert _authenticates(raw) == 400  # authenticated; the empty body is what is refused


def test_command_refuses_an_unknown_organization(city):
    with pytest.raises(CommandError, match="ville"):
        call_command("create_api_key", "nowhere", stdout=io.StringIO())
    assert not OrganizationApiKey.objects.exists()


def test_admin_creates_a_key_shows_it_once_and_revokes(city, superuser):
    client = Client()
    staff_login(client, superuser)

    response = client.post(
        "/admin/core/organizationapikey/add/",
        {"organization": city.pk, "name": "Agenda culturel"},
    )

    assert response.status_code == 200
    key = OrganizationApiKey.objects.get()
    # Shown on the page itself (tests/admin/test_api_key_admin.py: and in no cookie).
    raw = re.search(rf"{re.escape(key.prefix)}\.[^<\s]+", response.content.decode()).group()
    assert key.matches(raw)
    assert (
        raw not in client.get(f"/admin/core/organizationapikey/{key.pk}/change/").content.decode()
    )

    client.post(
        "/admin/core/organizationapikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert _authenticates(raw) == 401


def test_staff_see_only_their_organizations_keys(city, metropole, city_editor):
    from django.contrib.auth.models import Permission

    from apps.core.services import api_key_create

    city_editor.user_permissions.add(
        *Permission.objects.filter(codename__endswith="organizationapikey")
    )
    api_key_create(organization=city, name="ours")
    api_key_create(organization=metropole, name="theirs")
    client = Client()
    staff_login(client, city_editor)

    page = client.get("/admin/core/organizationapikey/").content.decode()

    assert "ours" in page and "theirs" not in page
