"""area_save: redrawing a district re-tags the content it now touches, and only that."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.exceptions import ValidationError

from apps.core import signals
from apps.core.services import area_save, content_areas_refresh
from tests.factories import AreaFactory, NewsFactory, WorksFactory, square

pytestmark = pytest.mark.django_db


def test_area_save_retags_items_entering_and_leaving(centre):
    inside = WorksFactory()
    elsewhere = NewsFactory(geometry=square(5.5, 46.5, 0.001).centroid)
    for item in (inside, elsewhere):
        content_areas_refresh(item=item)
    assert list(inside.areas.all()) == [centre]
    saved = []

    def receiver(sender, item_type, item_id, **kwargs):
        saved.append((item_type, item_id))

    signals.content_saved.connect(receiver)
    try:
        centre.geometry = square(5.5, 46.5, 0.01)  # the district moves away
        changed = area_save(area=centre)
    finally:
        signals.content_saved.disconnect(receiver)

    assert changed == 2
    assert list(inside.areas.all()) == []
    assert list(elsewhere.areas.all()) == [centre]
    assert sorted(saved) == sorted([("works", inside.pk), ("news", elsewhere.pk)])


def test_area_save_refuses_an_invalid_outline():
    ring = [(4.83, 45.76), (4.84, 45.77), (4.84, 45.76), (4.83, 45.77), (4.83, 45.76)]
    area = AreaFactory.build(slug="noeud", geometry=MultiPolygon(Polygon(ring), srid=4326))

    with pytest.raises(ValidationError):
        area_save(area=area)
    assert area.pk is None
