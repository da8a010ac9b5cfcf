"""An editor on the demo (`make run`, SpatiaLite) uses the map with no tile server and no internet:
sees the districts, finds a street with the search box, and sees the districts a roadwork
touches listed (and highlighted) at each click while drawing it.

Chromium through Playwright; every request leaving the demo server is aborted. Screenshots of
each step go to ``test-artifacts/map/`` (ignored by git).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401
from tests.devserver.demo_admin import admin_sign_in, demo_editor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "map"
MAP = "#id_geometry-map"
#: The demo city's centre (apps/demo/data/city.json) and the admin map's zoom (MAP_ZOOM).
CENTRE_LON, CENTRE_LAT, ZOOM = 4.8357, 45.764, 13


def _pixel(box: dict, east_m: float, north_m: float) -> tuple[float, float]:
    """Where a point ``east_m``/``north_m`` metres from the centre is, on the map at ZOOM."""
    metres_per_px = 156_543.034 * math.cos(math.radians(CENTRE_LAT)) / 2**ZOOM
    x = box["x"] + box["width"] / 2 + east_m / metres_per_px
    y = box["y"] + box["height"] / 2 - north_m / metres_per_px
    return x, y


def test_editor_sees_districts_finds_a_street_and_sees_the_reach_while_drawing(
    chromium,  # noqa: F811
    demo_server,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    editor = OfflinePage(chromium, demo_server.url())
    try:
        page = editor.page
        page.set_viewport_size({"width": 1366, "height": 1000})
        admin_sign_in(page, demo_editor(demo_server.log.read_text()))
        page.goto("/admin/works/works/add/")
        map_box = page.locator(MAP)

        # 1. The districts on a map without tiles: the commune and its nine districts, named.
        expect(map_box).to_have_attribute("data-areas-drawn", "10")
        expect(map_box).to_have_attribute("data-streets-drawn", "20")
        labels = page.locator(f"{MAP} .quartier-map-label-area")
        expect(labels).to_have_count(9)
        expect(labels.locator("span", has_text="Centre-Ville")).to_be_visible()
        expect(page.locator(f"{MAP} .leaflet-quartierAreas-pane path")).to_have_count(10)
        expect(page.locator(f"{MAP} .leaflet-quartierStreets-pane path")).to_have_count(20)
        assert page.locator(f"{MAP} img.leaflet-tile-loaded").count() == 0
        map_box.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "1-districts-without-tiles.png")

        # 2. The search box finds a street (the built-in geocoder) and moves the map there.
        search = page.locator(f"{MAP} .quartier-map-search input")
        search.fill("rue de la Répu")
        results = page.locator(f"{MAP} .quartier-map-results button")
        result = results.filter(has_text="rue de la République")
        expect(result.first).to_be_visible()
        page.screenshot(path=ARTIFACTS / "2-search-results.png")
        result.first.click()
        expect(map_box).to_have_attribute("data-found", re.compile("^rue de la République"))
        view = page.evaluate(
            "() => { const m = window.quartierMaps['id_geometry-map'];"
            " return [m.getZoom(), m.getCenter().lng, m.getCenter().lat]; }"
        )
        assert view[0] == 17
        # The demo street runs north-south a hundred metres around the centre.
        assert abs(view[1] - CENTRE_LON) < 0.005 and abs(view[2] - CENTRE_LAT) < 0.01
        # Zoomed in: the streets have their names.
        street_name = page.locator(f"{MAP} .quartier-map-label-street span")
        expect(street_name.filter(has_text="rue de la République")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "3-street-found.png")
        # Enter in the search box moves the map; it never submits the form.
        search.fill("avenue Jean-Jaur")
        expect(page.locator(f"{MAP} .quartier-map-results button").first).to_be_visible()
        search.press("Enter")
        expect(map_box).to_have_attribute("data-found", re.compile("^avenue Jean-Jaurès"))
        assert page.url.endswith("/admin/works/works/add/")

        # 3. The reach while drawing: each click lists the districts the line touches so far.
        page.evaluate(
            f"() => window.quartierMaps['id_geometry-map']"
            f".setView([{CENTRE_LAT}, {CENTRE_LON}], {ZOOM}, {{animate: false}})"
        )
        reach = page.locator("#id_geometry-reach")
        districts = reach.locator(".quartier-map-reach-district .quartier-map-reach-names")
        expect(reach).to_contain_text("Aucun tracé : le contenu concerne toute la ville.")
        page.click(f"{MAP} .leaflet-draw-draw-polyline")
        box = map_box.bounding_box()
        assert box is not None
        steps = [
            ((0, 0), "Centre-Ville"),
            ((2000, 0), "Centre-Ville, La Gare"),
            ((2000, 1600), "Bellevue, Centre-Ville, La Gare"),
        ]
        for index, ((east_m, north_m), expected) in enumerate(steps, start=1):
            page.mouse.click(*_pixel(box, east_m, north_m))
            page.wait_for_timeout(120)  # Leaflet.draw ignores a click within 50 ms of the last
            expect(districts).to_have_text(expected)
            expect(reach.locator(".quartier-map-reach-commune")).to_have_text("Communes : Lyonnay")
            page.screenshot(path=ARTIFACTS / f"4-reach-vertex-{index}.png")
        page.click(f"{MAP} .leaflet-draw-actions a:text-is('Terminer')")
        expect(page.locator("#id_geometry")).to_have_value(re.compile('"LineString"'))
        expect(districts).to_have_text("Bellevue, Centre-Ville, La Gare")
        # The touched districts are filled in orange on the map, the commune outlined.
        touched = page.locator(f"{MAP} .leaflet-quartierAreas-pane path[fill='#f59e0b']")
        expect(touched).to_have_count(3)
        outlined = page.locator(f"{MAP} .leaflet-quartierAreas-pane path[stroke='#b45309']")
        expect(outlined).to_have_count(4)
        reach.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "5-reach-drawn.png")

        # Deleting the drawing: the item concerns the whole city again.
        page.click(f"{MAP} .leaflet-draw-edit-remove")
        # "Clear all", the last action of the delete tool.
        page.click(f"{MAP} ul.leaflet-draw-actions:visible li:last-child a")
        expect(reach).to_contain_text("Aucun tracé : le contenu concerne toute la ville.")
        expect(touched).to_have_count(0)
        expect(outlined).to_have_count(0)

        # Nothing but map tiles was asked of the internet.
        assert all("tile.openstreetmap.org" in url for url in editor.blocked), editor.blocked
    finally:
        editor.close()
