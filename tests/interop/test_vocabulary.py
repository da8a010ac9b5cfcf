"""The works vocabulary is WZDx 4.2's, and the data migration converts what was stored."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from apps.works.models import (
    Direction,
    LaneStatus,
    LaneType,
    RestrictionType,
    RestrictionUnit,
    VehicleImpact,
    Works,
    validate_restrictions,
)
from tests.api_support import key_client
from tests.interop.conftest import STANDARDS, wzdx_definitions

migration = importlib.import_module("apps.works.migrations.0005_wzdx_vocabulary")


def test_vocabulary_restriction_types_and_units_are_wzdx():
    definitions = wzdx_definitions()
    assert set(RestrictionType.values) == set(definitions["RestrictionType"]["enum"])
    assert set(RestrictionUnit.values) == set(definitions["UnitOfMeasurement"]["enum"])


def test_vocabulary_impacts_lanes_and_directions_are_wzdx():
    import json

    definitions = wzdx_definitions()
    assert set(VehicleImpact.values) == set(definitions["VehicleImpact"]["enum"])
    assert set(LaneType.values) == set(definitions["LaneType"]["enum"])
    assert set(LaneStatus.values) == set(definitions["LaneStatus"]["enum"])
    direction = json.loads((STANDARDS / "wzdx-4.2/schemas/Direction.json").read_text())
    assert set(Direction.values) == set(direction["enum"])


@pytest.mark.parametrize(
    ("restriction", "hint"),
    [
        ({"type": "reduced-speed", "value": 30, "unit": "km/h"}, "reduced_speed_limit_kph"),
        ({"type": "pedestrian-detour"}, "sidewalk"),
        ({"type": "no-through-traffic"}, "local-access-only"),
        ({"type": "reduced-height", "value": 3.5, "unit": "m"}, "centimeters"),
        ({"type": "reduced-weight", "value": 3.5, "unit": "t"}, "kilograms"),
        ({"type": "reduced-height", "value": 350}, "unité"),
        ({"type": "reduced-height", "value": 350, "unit": "kilograms"}, "impossible"),
    ],
)
def test_vocabulary_retired_values_are_refused_with_their_replacement(restriction, hint):
    with pytest.raises(ValidationError, match=hint):
        validate_restrictions([restriction])


def test_vocabulary_migration_converts_stored_restrictions():
    works = SimpleNamespace(
        restrictions=[
            {"type": "reduced-speed", "value": 30, "unit": "km/h"},
            {"type": "pedestrian-detour"},
            {"type": "no-through-traffic"},
            {"type": "local-access-only"},
            {"type": "reduced-height", "value": 3.5, "unit": "m"},
            {"type": "reduced-weight", "value": 3.5, "unit": "t"},
            {"type": "no-parking"},
        ],
        reduced_speed_limit_kph=None,
        impacts_sidewalk=False,
    )

    assert migration._convert(works) is True

    assert works.restrictions == [
        {"type": "local-access-only"},
        {"type": "reduced-height", "value": 350, "unit": "centimeters"},
        {"type": "reduced-weight", "value": 3500, "unit": "kilograms"},
        {"type": "no-parking"},
    ]
    assert works.reduced_speed_limit_kph == 30
    assert works.impacts_sidewalk is True
    validate_restrictions(works.restrictions)


def test_vocabulary_migration_leaves_wzdx_values_alone():
    works = SimpleNamespace(
        restrictions=[{"type": "reduced-width", "value": 10, "unit": "feet"}],
        reduced_speed_limit_kph=None,
        impacts_sidewalk=False,
    )
    assert migration._convert(works) is False
    assert works.restrictions == [{"type": "reduced-width", "value": 10, "unit": "feet"}]


def _body(**fields):
    start = timezone.now() + timedelta(days=2)
    return {
        "title_fr": "Travaux rue Garibaldi",
        "category": "mobilite",
        "geometry": {"type": "LineString", "coordinates": [[4.8357, 45.764], [4.8387, 45.765]]},
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=5)).isoformat(),
        **fields,
    }


@pytest.mark.parametrize(
    ("restriction", "field", "hint"),
    [
        ({"type": "reduced-speed", "value": 30, "unit": "km/h"}, "type", "reduced_speed_limit_kph"),
        ({"type": "reduced-height", "value": 3.5, "unit": "m"}, "unit", "centimeters"),
        ({"type": "no-through-traffic"}, "type", "local-access-only"),
    ],
)
def test_vocabulary_api_refuses_retired_values_naming_the_replacement(
    city, mobility, restriction, field, hint
):
    response = key_client(city).post(
        "/api/v1/works/", _body(restrictions=[restriction]), format="json"
    )

    assert response.status_code == 400
    messages = json.dumps(response.json(), ensure_ascii=False)
    assert f"restrictions.0.{field}" in messages and hint in messages
    assert not Works.objects.exists()


def test_vocabulary_api_takes_wzdx_lanes_and_a_matching_vehicle_impact(city, mobility):
    lanes = [
        {"order": 1, "type": "general", "status": "closed"},
        {"order": 2, "type": "sidewalk", "status": "open"},
    ]
    body = _body(
        road_state="single_lane_alternating",
        vehicle_impact="flagging",
        lanes=lanes,
        direction="northbound",
        status="published",
    )

    created = key_client(city).post("/api/v1/works/", body, format="json")
    mismatch = key_client(city).post(
        "/api/v1/works/", _body(road_state="closed", vehicle_impact="flagging"), format="json"
    )

    assert created.status_code == 201, created.content
    detail = APIClient().get(f"/api/v1/works/{created.json()['id']}/").json()
    assert (detail["vehicle_impact"], detail["direction"], detail["lanes"]) == (
        "flagging",
        "northbound",
        lanes,
    )
    assert mismatch.status_code == 400
    assert "vehicle_impact" in mismatch.json()["fields"]
