"""One vocabulary per concept: the content types and the Earth's numbers, defined once in core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apps.core import geo
from apps.core.item_types import CODE_CHOICES, INT_CHOICES, ITEM_TYPES, TYPE_INDEX, ItemType
from apps.core.registry import content_type_codes
from apps.notifications.models import Notification
from apps.recommend.engine.candidates import EVENTS, NEWS, TYPE_CODES, WORKS
from apps.recommend.models import Interaction
from apps.residents.models import SavedItem


def test_item_type_stored_codings_keep_their_meaning():
    # The interaction log stores 1, 2, 3; notifications and saved items store the API code.
    assert [(t.value, t.code) for t in ItemType] == [(1, "news"), (2, "works"), (3, "events")]
    assert Interaction._meta.get_field("item_type").choices == INT_CHOICES
    assert SavedItem._meta.get_field("item_type").choices == CODE_CHOICES
    assert [code for code, _label in Notification._meta.get_field("item_type").choices] == [
        "news",
        "works",
        "events",
    ]


def test_item_type_engine_index_is_zero_based():
    assert (NEWS, WORKS, EVENTS) == (0, 1, 2)
    assert TYPE_CODES == TYPE_INDEX == {"news": 0, "works": 1, "events": 2}
    assert [ItemType.from_index(i).code for i in range(3)] == list(ITEM_TYPES)


def test_item_type_codes_match_the_content_models():
    assert sorted(content_type_codes()) == sorted(ItemType.codes())


def test_item_type_from_code_rejects_unknown():
    assert ItemType.from_code("works") is ItemType.WORKS
    with pytest.raises(ValueError):
        ItemType.from_code("parking")


def test_geo_constants_keep_their_values():
    assert geo.EARTH_RADIUS_M == 6_371_008.8
    assert geo.WGS84 == 4326
    kx, ky = geo.metres_per_degree(45.0)
    assert kx == pytest.approx(78_846.8, abs=0.1)
    assert ky == pytest.approx(111_131.7, abs=0.1)
    assert geo.haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(geo.METRES_PER_DEGREE)


def test_geo_maths_import_no_django():
    code = (
        "import sys, apps.core.earth, apps.core.item_types; "
        "sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


def test_engine_copies_match_core():
    # The engine imports no other app, so it keeps copies; they must not drift from core's.
    from apps.recommend.engine import candidates, distance

    assert candidates.ITEM_TYPES == ITEM_TYPES
    assert candidates.TYPE_CODES == TYPE_INDEX
    assert distance.EARTH_RADIUS_M == geo.EARTH_RADIUS_M
