"""The works vocabulary is WZDx 4.2's, and the data migration converts what was stored."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from apps.works.models import (
    Direction,
    LaneStatus,
    LaneType,
    RestrictionType,
    RestrictionUnit,
    VehicleImpact,
    validate_restrictions,
)
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
