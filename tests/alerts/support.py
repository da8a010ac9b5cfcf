"""Helpers of the alerts tests: a commune with an INSEE code, alert items, CAP reading."""

from __future__ import annotations

from typing import Any

from django.contrib.gis.geos import MultiPolygon, Polygon
from lxml import etree

from apps.alerts.cap.schema import NS
from apps.core.geo import WGS84
from apps.core.models import AreaKind, Urgency
from apps.core.services import content_areas_refresh
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, NewsFactory


def commune(**kwargs: Any):
    """The test commune: a 4 x 4 km square around the centre, INSEE 69123."""
    half = 0.02
    ring = (
        (CENTRE_LON - half, CENTRE_LAT - half),
        (CENTRE_LON + half, CENTRE_LAT - half),
        (CENTRE_LON + half, CENTRE_LAT + half),
        (CENTRE_LON - half, CENTRE_LAT + half),
        (CENTRE_LON - half, CENTRE_LAT - half),
    )
    defaults = {
        "slug": "lyon",
        "name": "Lyon",
        "kind": AreaKind.COMMUNE,
        "code": "69123",
        "geometry": MultiPolygon(Polygon(ring), srid=WGS84),
    }
    return AreaFactory(**{**defaults, **kwargs})


def alert_item(factory=NewsFactory, **kwargs: Any):
    defaults = {
        "urgency": Urgency.ALERT,
        "notify": True,
        "title_fr": "Crue de la Saône",
        "title_en": "Saône flood",
        "summary_fr": "Les quais bas sont fermés.",
        "summary_en": "The lower quays are closed.",
        "body_fr": "La Saône monte.\n\nConsignes : ne descendez pas sur les berges.",
        "body_en": "The river is rising.\n\nInstructions: keep off the banks.",
    }
    item = factory(**{**defaults, **kwargs})
    content_areas_refresh(item=item)
    return item


def cap(document: str | bytes) -> etree._Element:
    raw = document.encode() if isinstance(document, str) else document
    return etree.fromstring(raw)


def text(root: etree._Element, path: str) -> str:
    return root.findtext(path, namespaces=NS) or ""


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text or "" for element in root.iterfind(path, NS)]
