"""The admin's API key page: a new key is shown once, on the page, and in no cookie."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client

from apps.core.models import OrganizationApiKey
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

ADD = "/admin/core/organizationapikey/add/"


def cookie_texts(response) -> list[str]:
    """Every Set-Cookie of ``response`` as sent, and the messages cookie decoded (it is only
    signed and compressed: anyone holding the cookie reads it)."""
    texts = [morsel.OutputString() for morsel in response.cookies.values()]
    if "messages" in response.cookies:
        storage = CookieStorage(response.wsgi_request)
        decoded = storage._decode(response.cookies["messages"].value) or []
        texts += [str(message) for message in decoded]
    return texts


def test_api_key_create_shows_the_key_on_the_page_and_in_no_cookie(city, superuser):
    client = Client()
    staff_login(client, superuser)

    response = client.post(ADD, {"organization": city.pk, "name": "Agenda culturel"})

    key = OrganizationApiKey.objects.get()
    assert not any(key.prefix in text for text in cookie_texts(response))
    page = response.content.decode()
    raw = re.search(rf"{re.escape(key.prefix)}\.[^<\s]+", page).group()
    assert key.matches(raw)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert not any(raw in text for text in cookie_texts(response))
    assert raw not in str(client.session.items())
    # Shown once: the next pages never carry it.
    assert raw not in client.get("/admin/core/organizationapikey/").content.decode()
    change = client.get(f"/admin/core/organizationapikey/{key.pk}/change/")
    assert raw not in change.content.decode()
