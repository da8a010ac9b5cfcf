"""The map widget works offline: every script and stylesheet of the admin forms is ours.

django-leaflet ships Leaflet and Leaflet.draw as static files; jQuery UI (fr/en tabs) comes
from django-static-jquery-ui. The browser test checks the drawing itself with the network cut.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

from tests.admin.conftest import admin_url

pytestmark = pytest.mark.django_db

ASSET = re.compile(r'<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"')


def _assets(content: str) -> list[str]:
    return [url for url in ASSET.findall(content) if not url.startswith("#")]


@pytest.mark.parametrize(
    "url",
    [
        admin_url("works", "add"),
        admin_url("news", "add"),
        admin_url("events", "add"),
        "/admin/core/area/add/",
        "/admin/events/venue/add/",
        "/admin/core/category/add/",
    ],
)
def test_form_assets_are_served_locally(url, superuser_client):
    content = superuser_client.get(url).content.decode()
    assets = _assets(content)

    assert any(a.endswith("leaflet/leaflet.js") for a in assets) or "category" in url
    for asset in assets:
        assert asset.startswith("/"), f"{asset} would need the internet"
        if asset.startswith("/static/"):
            path = asset.removeprefix("/static/")
            assert finders.find(path), f"{asset} is not in any static directory"
            response = superuser_client.get(asset)
            assert response.status_code == 200, asset


def test_geometry_widgets_draw_the_right_types(superuser_client):
    works = superuser_client.get(admin_url("works", "add")).content.decode()
    area = superuser_client.get("/admin/core/area/add/").content.decode()
    venue = superuser_client.get("/admin/events/venue/add/").content.decode()

    # Any type (point, line, polygon) for the content; the field type elsewhere.
    assert "geodjango_id_geometry.geom_type = 'Geometry';" in works
    assert "geodjango_id_detour_geometry.geom_type = 'MultiLineString';" in works
    assert "geodjango_id_geometry.geom_type = 'MultiPolygon';" in area
    assert "geodjango_id_location.geom_type = 'Point';" in venue


def test_draw_toolbar_speaks_french(editor_client, city):
    content = editor_client.get(admin_url("works", "add")).content.decode()

    assert "Terminer le tracé" in content
    assert '"Supprimer le dernier point"' in content
