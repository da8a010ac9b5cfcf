"""Categories, organizations and areas: public lists, translated names, area kinds."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.core.models import AreaKind
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, CategoryFactory, square

pytestmark = pytest.mark.django_db


def test_categories_in_order_with_translated_names(mobility, culture):
    CategoryFactory(slug="sport", name_fr="Sport", name_en="Sports", position=0)
    mobility.position = culture.position = 1
    mobility.save()
    culture.save()

    french = APIClient().get("/api/v1/categories/").json()
    english = APIClient().get("/api/v1/categories/", HTTP_ACCEPT_LANGUAGE="en").json()

    assert [c["slug"] for c in french["results"]] == ["sport", "culture", "mobilite"]
    assert french["count"] == 3
    assert [c["name"] for c in english["results"]] == ["Sports", "Culture", "Mobility"]
    assert set(french["results"][0]) == {"slug", "name", "colour", "icon", "position"}


def test_organizations(city, metropole):
    data = APIClient().get("/api/v1/organizations/").json()
    assert [o["slug"] for o in data["results"]] == ["metropole", "ville"]
    assert set(data["results"][0]) == {"slug", "name", "kind", "website", "email", "phone"}


def test_areas_with_parent_and_kind_filter(centre):
    commune = AreaFactory(
        slug="lyonnay", kind=AreaKind.COMMUNE, geometry=square(CENTRE_LON, CENTRE_LAT, 0.05)
    )
    centre.parent = commune
    centre.save()

    every = APIClient().get("/api/v1/areas/").json()["results"]
    communes = APIClient().get("/api/v1/areas/", {"kind": "commune"}).json()["results"]

    assert [(a["slug"], a["parent"]) for a in every] == [("lyonnay", None), ("centre", "lyonnay")]
    assert [a["slug"] for a in communes] == ["lyonnay"]
    assert every[1]["geometry"]["type"] == "MultiPolygon"
