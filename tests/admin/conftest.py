"""Fixtures of the admin tests: one item of each type for the city and for the metropole."""

from __future__ import annotations

import pytest

from tests.factories import EventFactory, NewsFactory, WorksFactory
from tests.staff import staff_login

FACTORIES = {"news": NewsFactory, "works": WorksFactory, "events": EventFactory}
#: (app label, model name) of each content type in admin URLs.
ADMIN_NAMES = {"news": ("news", "news"), "works": ("works", "works"), "events": ("events", "event")}


def admin_url(type_code: str, view: str, *args: object) -> str:
    from django.urls import reverse

    app, model = ADMIN_NAMES[type_code]
    return reverse(f"admin:{app}_{model}_{view}", args=args)


@pytest.fixture
def city_items(city, mobility):
    """One draft of each type published by the city."""
    return {
        code: factory(organization=city, category=mobility, title_fr=f"Ville {code}")
        for code, factory in FACTORIES.items()
    }


@pytest.fixture
def metropole_items(metropole, mobility):
    """One draft of each type published by the metropole."""
    return {
        code: factory(organization=metropole, category=mobility, title_fr=f"Métropole {code}")
        for code, factory in FACTORIES.items()
    }


@pytest.fixture
def editor_client(client, city_editor):
    return staff_login(client, city_editor)  # password and second factor, as a browser


@pytest.fixture
def superuser_client(client, superuser):
    return staff_login(client, superuser)
