"""Shared fixtures: the test personas of the city (architecture.md, "Style") and their content."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.core.models import Membership
from tests.factories import (
    AreaFactory,
    CategoryFactory,
    OrganizationFactory,
    UserFactory,
)


@pytest.fixture
def city(db):
    """The city's own organization."""
    return OrganizationFactory(slug="ville", name="Ville de Lyonnay")


@pytest.fixture
def metropole(db):
    """Another publisher: the metropole."""
    return OrganizationFactory(slug="metropole", name="Métropole")


@pytest.fixture
def city_editor(city):
    """An editor of the city, who publishes (a *validateur*)."""
    user = UserFactory(username="camille")
    Membership.objects.create(user=user, organization=city, role=Membership.Role.VALIDATOR)
    return user


@pytest.fixture
def city_writer(city):
    """A *rédacteur* of the city: writes and submits, a validator publishes."""
    user = UserFactory(username="lucas", first_name="Lucas", last_name="Petit")
    Membership.objects.create(user=user, organization=city, role=Membership.Role.EDITOR)
    return user


@pytest.fixture
def city_validator(city):
    """Another validator of the city: the second person of the two-person rule."""
    user = UserFactory(username="nadia", first_name="Nadia", last_name="Roux")
    Membership.objects.create(user=user, organization=city, role=Membership.Role.VALIDATOR)
    return user


@pytest.fixture
def metropole_editor(metropole):
    """An editor of another organization (a validator of the metropole)."""
    user = UserFactory(username="dominique")
    Membership.objects.create(user=user, organization=metropole, role=Membership.Role.VALIDATOR)
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_superuser=True)


@pytest.fixture
def mobility(db):
    return CategoryFactory(slug="mobilite", name_fr="Mobilité", name_en="Mobility")


@pytest.fixture
def culture(db):
    return CategoryFactory(slug="culture", name_fr="Culture", name_en="Culture")


@pytest.fixture
def centre(db):
    """The district around the test centre point."""
    return AreaFactory(slug="centre", name="Centre")


@pytest.fixture
def resident(db):
    """A resident's phone: a registered device with its token and an authenticated client."""
    from tests.residents.factories import make_resident

    return make_resident()


@pytest.fixture
def other_resident(db):
    """Another resident's phone."""
    from tests.residents.factories import make_resident

    return make_resident(platform="ios")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached values live in the cache: each test starts empty."""
    cache.clear()
    yield
    cache.clear()
