"""Followed categories, areas and organizations: ``GET`` and ``PUT /me/interests/``."""

from __future__ import annotations

import pytest

from apps.residents.models import AreaFollow, CategoryFollow, OrganizationFollow
from tests.factories import AreaFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/interests/"


@pytest.fixture
def taxonomy(mobility, culture, centre, city, metropole):
    AreaFactory(slug="croix-rousse", name="Croix-Rousse")


def test_interests_start_empty(resident):
    response = resident.client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"categories": [], "areas": [], "organizations": []}


def test_interests_put_replaces_everything_followed(resident, taxonomy):
    first = resident.client.put(
        URL,
        {"categories": ["mobilite", "culture"], "areas": ["centre"], "organizations": ["ville"]},
        format="json",
    )
    assert first.status_code == 200
    assert first.json() == {
        "categories": ["culture", "mobilite"],
        "areas": ["centre"],
        "organizations": ["ville"],
    }

    second = resident.client.put(
        URL,
        {"categories": ["culture", "culture"], "areas": ["croix-rousse"], "organizations": []},
        format="json",
    )

    assert second.json() == {
        "categories": ["culture"],
        "areas": ["croix-rousse"],
        "organizations": [],
    }
    assert resident.client.get(URL).json() == second.json()
    assert CategoryFollow.objects.filter(device=resident.device).count() == 1
    assert not OrganizationFollow.objects.exists()


def test_interests_of_devices_are_separate(resident, other_resident, taxonomy):
    resident.client.put(
        URL, {"categories": ["culture"], "areas": [], "organizations": []}, format="json"
    )
    other_resident.client.put(
        URL, {"categories": ["mobilite"], "areas": [], "organizations": []}, format="json"
    )

    assert resident.client.get(URL).json()["categories"] == ["culture"]
    assert other_resident.client.get(URL).json()["categories"] == ["mobilite"]


def test_interests_get_costs_four_queries(resident, taxonomy, django_assert_num_queries):
    resident.client.put(
        URL,
        {"categories": ["culture"], "areas": ["centre"], "organizations": ["ville"]},
        format="json",
    )
    with django_assert_num_queries(4):  # token + one per kind of follow
        resident.client.get(URL)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"categories": ["sport"], "areas": [], "organizations": []}, "categories"),
        ({"categories": [], "areas": ["atlantis"], "organizations": []}, "areas"),
        ({"categories": [], "areas": [], "organizations": ["acme"]}, "organizations"),
        ({"categories": ["culture"], "areas": []}, "organizations"),
        ({"categories": "culture", "areas": [], "organizations": []}, "categories"),
        ({"categories": [1], "areas": [], "organizations": []}, "categories.0"),
        ({"categories": ["Not a slug!"], "areas": [], "organizations": []}, "categories.0"),
        ({"categories": [], "areas": [], "organizations": [], "events": []}, "events"),
        ({"categories": ["c"] * 501, "areas": [], "organizations": []}, "categories"),
    ],
)
def test_interests_put_rejects_bad_input_and_keeps_what_was_followed(
    resident, taxonomy, body, field
):
    resident.client.put(
        URL, {"categories": ["culture"], "areas": ["centre"], "organizations": []}, format="json"
    )

    response = resident.client.put(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert resident.client.get(URL).json()["categories"] == ["culture"]
    assert AreaFollow.objects.filter(device=resident.device).count() == 1


def test_unknown_slug_message_names_it(resident, taxonomy):
    response = resident.client.put(
        URL, {"categories": ["culture", "sport"], "areas": [], "organizations": []}, format="json"
    )

    assert "sport" in response.json()["fields"]["categories"][0]
