"""The admin maps' own data: districts and streets as GeoJSON (no tile server needed), and the
areas a drawn geometry touches, for staff only, with bounded input and clear 4xx answers."""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiLineString

from apps.core.admin.maps import REACH_MAX_BYTES
from apps.core.models import Area, AreaKind
from apps.core.services import content_areas_refresh
from apps.interop.geocoding import views as geocoding_views
from apps.interop.geocoding.services import street_save
from tests.admin.conftest import admin_url
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, WorksFactory, square

pytestmark = pytest.mark.django_db

AREAS = "/admin/map/areas.geojson"
STREETS = "/admin/map/streets.geojson"
REACH = "/admin/map/reach/"
D = 0.01  # half the side of a district, in degrees


@pytest.fixture
def territory(db):
    """A commune of two districts side by side: west and east of the centre."""
    commune = AreaFactory(
        slug="lyonnay",
        name="Lyonnay",
        kind=AreaKind.COMMUNE,
        geometry=square(CENTRE_LON, CENTRE_LAT, 2 * D),
    )
    west = AreaFactory(
        slug="ouest", name="Ouest", parent=commune, geometry=square(CENTRE_LON - D, CENTRE_LAT, D)
    )
    east = AreaFactory(
        slug="est", name="Est", parent=commune, geometry=square(CENTRE_LON + D, CENTRE_LAT, D)
    )
    return {"commune": commune, "west": west, "east": east}


def _line(*points: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


def _reach(client, body: object, **extra) -> tuple[int, dict]:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post(REACH, data=data, content_type="application/json", **extra)
    return response.status_code, response.json()


def test_map_areas_are_geojson_outlines_with_names_and_label_points(editor_client, territory):
    response = editor_client.get(AREAS)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    features = {f["properties"]["slug"]: f for f in response.json()["features"]}
    assert set(features) == {"lyonnay", "ouest", "est"}
    west = features["ouest"]
    assert west["id"] == territory["west"].pk
    assert west["properties"]["name"] == "Ouest"
    assert west["properties"]["kind"] == "district"
    assert features["lyonnay"]["properties"]["kind"] == "commune"
    # Simplified: a one-polygon MultiPolygon comes out as its polygon.
    assert west["geometry"]["type"] == "Polygon"
    ring = west["geometry"]["coordinates"][0]
    assert ring[0] == [round(CENTRE_LON - 2 * D, 6), round(CENTRE_LAT - D, 6)]
    lon, lat = west["properties"]["label"]
    assert CENTRE_LON - 2 * D < lon < CENTRE_LON and CENTRE_LAT - D < lat < CENTRE_LAT + D


def test_map_areas_are_cached_until_an_area_changes(
    editor_client, territory, django_assert_num_queries
):
    editor_client.get(AREAS)  # warms the session and the overlay

    # Session, user, second factor, then one version query: the outlines come from the cache.
    with django_assert_num_queries(4):
        cached = editor_client.get(AREAS)
    assert len(cached.json()["features"]) == 3

    territory["east"].name = "Est-Gare"
    territory["east"].save()
    with django_assert_num_queries(5):  # the version changed: the areas are read again
        fresh = editor_client.get(AREAS)
    names = {f["properties"]["name"] for f in fresh.json()["features"]}
    assert names == {"Lyonnay", "Ouest", "Est-Gare"}
    assert fresh["ETag"] != cached["ETag"]


def test_map_areas_answer_304_to_the_browser_that_has_them(editor_client, territory):
    first = editor_client.get(AREAS)

    again = editor_client.get(AREAS, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""


def test_map_streets_are_lines_with_names(editor_client):
    line = MultiLineString(
        LineString((CENTRE_LON - D, CENTRE_LAT), (CENTRE_LON + D, CENTRE_LAT)), srid=4326
    )
    street_save(name="avenue Jean-Jaurès", geometry=line, postal_code="69990", city="Lyonnay")

    body = editor_client.get(STREETS).json()

    assert body["truncated"] is False
    (street,) = body["features"]
    assert street["properties"]["name"] == "avenue Jean-Jaurès"
    assert street["geometry"] == {
        "type": "LineString",  # simplified: a one-line MultiLineString is its line
        "coordinates": [[CENTRE_LON - D, CENTRE_LAT], [CENTRE_LON + D, CENTRE_LAT]],
    }


def test_map_streets_stop_at_the_cap_and_say_so(
    editor_client, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(geocoding_views, "OVERLAY_STREETS_MAX", 2)
    for index, name in enumerate(["rue Pasteur", "avenue Jean-Jaurès", "rue Voltaire"]):
        lat = CENTRE_LAT + index * D / 4
        line = LineString((CENTRE_LON - D, lat), (CENTRE_LON + D, lat))
        street_save(name=name, geometry=MultiLineString(line, srid=4326), city="Lyonnay")
    editor_client.get("/admin/")  # the session is warm

    # Session, user, second factor, the version, then the streets (the cap + 1).
    with django_assert_num_queries(5):
        body = editor_client.get(STREETS).json()

    assert body["truncated"] is True
    assert [f["properties"]["name"] for f in body["features"]] == [
        "avenue Jean-Jaurès",
        "rue Pasteur",
    ]


def test_map_reach_lists_the_districts_a_line_crosses(editor_client, territory):
    across = _line((CENTRE_LON - D, CENTRE_LAT), (CENTRE_LON + D, CENTRE_LAT + D / 2))

    status, body = _reach(editor_client, across)

    assert status == 200
    assert body["areas"] == [
        {"id": territory["commune"].pk, "slug": "lyonnay", "name": "Lyonnay", "kind": "commune"},
        {"id": territory["east"].pk, "slug": "est", "name": "Est", "kind": "district"},
        {"id": territory["west"].pk, "slug": "ouest", "name": "Ouest", "kind": "district"},
    ]


def test_map_reach_of_a_point_in_one_district_and_of_a_feature(editor_client, territory):
    point = {"type": "Point", "coordinates": [CENTRE_LON + D, CENTRE_LAT]}

    _status, body = _reach(editor_client, point)
    _status, as_feature = _reach(
        editor_client, {"type": "Feature", "geometry": point, "properties": {}}
    )

    assert [a["slug"] for a in body["areas"]] == ["lyonnay", "est"]
    assert as_feature == body


def test_map_reach_outside_every_area_is_empty(editor_client, territory):
    far = _line((CENTRE_LON + 1, CENTRE_LAT + 1), (CENTRE_LON + 1.01, CENTRE_LAT + 1))

    status, body = _reach(editor_client, far)

    assert (status, body) == (200, {"areas": []})


def test_map_reach_is_what_saving_the_item_tags(editor_client, territory, city, mobility):
    drawn = _line((CENTRE_LON - D / 2, CENTRE_LAT), (CENTRE_LON + D / 2, CENTRE_LAT))
    works = WorksFactory(
        organization=city, category=mobility, geometry=GEOSGeometry(json.dumps(drawn))
    )

    saved = {area.slug for area in content_areas_refresh(item=works)}

    _status, body = _reach(editor_client, drawn)
    assert {a["slug"] for a in body["areas"]} == saved == {"lyonnay", "ouest", "est"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Envoyez le tracé en GeoJSON."),
        ("{not json", "JSON illisible"),
        ([1, 2], "Un objet géométrie GeoJSON est attendu."),
        ({"type": "Circle", "coordinates": [0, 0]}, "Type de géométrie inconnu"),
        ({"type": "LineString", "coordinates": [[200, 0], [0, 0]]}, "La longitude est comprise"),
        ({"type": "Point", "coordinates": [4.8, 45.7], "crs": {}}, "« crs »"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[4.8, 45.7], [4.81, 45.71], [4.81, 45.7], [4.8, 45.71], [4.8, 45.7]]
                ],
            },
            "Géométrie invalide : elle se recoupe",
        ),
        (
            {"type": "LineString", "coordinates": [[4.8 + i * 1e-7, 45.7] for i in range(5001)]},
            "Trop de sommets (5000 au plus).",
        ),
        (_line((CENTRE_LON, CENTRE_LAT), (CENTRE_LON + 3, CENTRE_LAT)), "s'étend sur"),
    ],
)
def test_map_reach_refuses_bad_input_in_french(editor_client, territory, body, message):
    status, answer = _reach(editor_client, body)

    assert status == 400
    assert answer["error"] == "invalid"
    assert message in answer["message"]


def test_map_reach_refuses_a_body_over_the_size_cap(editor_client, territory):
    point = '{"type": "Point", "coordinates": [4.8, 45.7]}'
    status, answer = _reach(editor_client, point + " " * REACH_MAX_BYTES)

    assert status == 413
    assert answer["error"] == "too_large"


def test_map_reach_needs_a_post_with_the_csrf_token(editor_client, territory):
    strict = editor_client
    strict.handler.enforce_csrf_checks = True  # as a browser: signed in, then no token sent
    status = strict.post(
        REACH, data=json.dumps(_line((0, 0), (1, 1))), content_type="application/json"
    ).status_code
    assert status == 403
    assert strict.get(REACH).status_code == 405


@pytest.mark.parametrize("url", [AREAS, STREETS, REACH])
def test_map_endpoints_are_for_staff_only(client, territory, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert Area.objects.count() == 3


@pytest.mark.parametrize(
    ("url", "reach_fields"),
    [
        (admin_url("works", "add"), "id_geometry"),
        (admin_url("news", "add"), "id_geometry"),
        (admin_url("events", "add"), "id_geometry"),
        ("/admin/core/area/add/", ""),
        ("/admin/events/venue/add/", ""),
    ],
)
def test_change_forms_load_the_map_tools_and_name_the_reach_field(
    superuser_client, url, reach_fields
):
    page = superuser_client.get(url).content.decode()

    assert '<script src="/static/admin/quartier/map.js"></script>' in page
    assert 'data-areas-url="/admin/map/areas.geojson"' in page
    assert 'data-streets-url="/admin/map/streets.geojson"' in page
    assert 'data-reach-url="/admin/map/reach/"' in page
    assert 'data-geocode-url="/admin/geocode/"' in page
    assert 'data-l-search="Chercher une rue, une adresse…"' in page
    # The item's own map only (not a roadwork's detour, an area's outline, a venue's point).
    assert f'data-reach-fields="{reach_fields}"' in page
