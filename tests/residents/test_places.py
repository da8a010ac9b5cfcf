"""Saved places: CRUD, the per-device limit, rounding to the grid, bad input, the index."""

from __future__ import annotations

import math

import pytest
from django.contrib.gis.geos import LineString
from django.db import connection

from apps.core.geo import haversine_m, point
from apps.residents.models import PLACES_MAX, Place
from apps.residents.rounding import PLACE_MAX_SHIFT_M, snap_coordinates
from tests.residents.factories import PlaceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/places/"


def body(lon=4.83571, lat=45.76389, **extra):
    return {
        "label": "home",
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "radius_m": 800,
        **extra,
    }


def test_place_create_stores_it_rounded_and_returns_it(resident):
    response = resident.client.post(URL, body(name="Chez moi"), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["label"] == "home"
    assert data["name"] == "Chez moi"
    assert data["radius_m"] == 800
    assert data["location"] == {"type": "Point", "coordinates": [4.836, 45.764]}
    place = Place.objects.get(pk=data["id"])
    assert place.device == resident.device
    assert (place.location.x, place.location.y) == (4.836, 45.764)


def test_rounding_rule_snaps_to_the_thousandth_of_a_degree():
    assert snap_coordinates(4.83549, 45.76351) == (4.835, 45.764)
    assert snap_coordinates(-0.00049, -0.0004) == (0.0, 0.0)
    assert snap_coordinates(-73.56789, 45.50001) == (-73.568, 45.5)
    assert snap_coordinates(180, -90) == (180.0, -90.0)


@pytest.mark.parametrize(
    ("lon", "lat"), [(4.8355, 45.7645), (0.0005, 0.0005), (-122.4194, 37.7749), (2.35, 48.85)]
)
def test_rounding_moves_a_point_at_most_the_documented_distance(lon, lat):
    snapped = snap_coordinates(lon, lat)
    assert haversine_m(lon, lat, *snapped) <= PLACE_MAX_SHIFT_M


def test_every_write_path_stores_rounded_locations(resident):
    place = PlaceFactory(device=resident.device, location=point(4.83571, 45.76389))
    Place.objects.bulk_create(
        [
            Place(
                device=resident.device,
                label="work",
                location=point(2.29451, 48.85826),
                radius_m=200,
            )
        ]
    )

    stored = {(p.location.x, p.location.y) for p in Place.objects.all()}
    assert stored == {(4.836, 45.764), (2.295, 48.858)}
    assert (place.location.x, place.location.y) == (4.836, 45.764)
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_X(location), ST_Y(location) FROM residents_place ORDER BY id")
        assert cursor.fetchall() == [(4.836, 45.764), (2.295, 48.858)]


def test_place_list_shows_own_places_in_two_queries(
    resident, other_resident, django_assert_num_queries
):
    for label in ("home", "work", "school"):
        PlaceFactory(device=resident.device, label=label)
    PlaceFactory(device=other_resident.device)

    with django_assert_num_queries(2):  # token lookup + places
        response = resident.client.get(URL)

    assert response.status_code == 200
    assert [p["label"] for p in response.json()] == ["home", "work", "school"]


def test_place_detail_update_and_delete(resident):
    place_id = resident.client.post(URL, body(), format="json").json()["id"]
    detail = f"{URL}{place_id}/"

    assert resident.client.get(detail).json()["radius_m"] == 800
    patched = resident.client.patch(detail, {"radius_m": 2500, "name": "Maison"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["radius_m"] == 2500
    assert patched.json()["location"]["coordinates"] == [4.836, 45.764]

    replaced = resident.client.put(
        detail, body(lon=2.35222, lat=48.85661, label="work", radius_m=300), format="json"
    )
    assert replaced.status_code == 200, replaced.json()
    place = Place.objects.get(pk=place_id)
    assert (place.label, place.radius_m) == ("work", 300)
    assert (place.location.x, place.location.y) == (2.352, 48.857)

    assert resident.client.delete(detail).status_code == 204
    assert not Place.objects.filter(pk=place_id).exists()
    assert resident.client.get(detail).status_code == 404


def test_place_put_requires_the_whole_place(resident):
    place = PlaceFactory(device=resident.device, radius_m=500)

    response = resident.client.put(f"{URL}{place.pk}/", {"radius_m": 900}, format="json")

    assert response.status_code == 400
    assert {"label", "location"} <= set(response.json()["fields"])
    place.refresh_from_db()
    assert place.radius_m == 500


def test_place_limit_per_device(resident):
    for _ in range(PLACES_MAX):
        PlaceFactory(device=resident.device)

    response = resident.client.post(URL, body(), format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["fields"]
    assert Place.objects.filter(device=resident.device).count() == PLACES_MAX


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(lat=91), "location"),
        (body(lat=-90.0001), "location"),
        (body(lon=181), "location"),
        (body(radius_m=10), "radius_m"),
        (body(radius_m=99), "radius_m"),
        (body(radius_m=5001), "radius_m"),
        (body(radius_m=10**30), "radius_m"),
        (body(radius_m="far"), "radius_m"),
        (body(label="castle"), "label"),
        (body(name="x" * 81), "name"),
        (
            {**body(), "location": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
            "location",
        ),
        ({**body(), "location": {"type": "Point", "coordinates": [4.8]}}, "location"),
        ({**body(), "location": {"type": "Point", "coordinates": [4.8, 45.7, 200]}}, "location"),
        ({**body(), "location": {"type": "Point", "coordinates": ["4.8", "45.7"]}}, "location"),
        ({**body(), "location": {"type": "Point", "coordinates": [True, 45.7]}}, "location"),
        (
            {
                **body(),
                "location": {
                    "type": "Point",
                    "coordinates": [4.8, 45.7],
                    "crs": {"type": "name", "properties": {"name": "EPSG:2154"}},
                },
            },
            "location",
        ),
        ({**body(), "location": "POINT(4.8 45.7)"}, "location"),
        ({**body(), "location": None}, "location"),
        ({**body(), "device": 1}, "device"),
        ({**body(), "id": 5}, "id"),
        ({"label": "home", "radius_m": 500}, "location"),
    ],
)
def test_place_create_rejects_bad_input_with_the_error_shape(resident, payload, field):
    response = resident.client.post(URL, payload, format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "invalid"
    assert field in error["fields"], error
    assert not Place.objects.exists()


def test_place_patch_rejects_bad_input_and_changes_nothing(resident):
    place = PlaceFactory(device=resident.device, radius_m=500)

    for payload in (
        {"radius_m": 10},
        {"location": {"type": "Point", "coordinates": [0, 91]}},
        {"x": 1},
    ):
        response = resident.client.patch(f"{URL}{place.pk}/", payload, format="json")
        assert response.status_code == 400

    place.refresh_from_db()
    assert place.radius_m == 500


def test_nan_in_json_is_a_400(resident):
    raw = (
        '{"label": "home", "location": {"type": "Point", "coordinates": [NaN, 45]}, '
        '"radius_m": 500}'
    )
    response = resident.client.generic("POST", URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert not Place.objects.exists()


def test_ten_megabyte_body_is_a_413(resident):
    huge = '{"name": "' + "x" * (10 * 1024 * 1024) + '"}'
    response = resident.client.generic("POST", URL, huge, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert not Place.objects.exists()


@pytest.mark.parametrize("suffix", ["0/", "99999999999999999999999999/", "abc/", "-1/"])
def test_unknown_place_ids_are_404_never_500(resident, suffix):
    response = resident.client.get(f"{URL}{suffix}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_geography_index_serves_fixed_distance_queries(resident):
    PlaceFactory(device=resident.device)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'residents_place' "
            "AND indexname = 'residents_place_location_geog_gist'"
        )
        (indexdef,) = cursor.fetchone()
        assert "gist (geography(location))" in indexdef
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT p.device_id FROM residents_place p WHERE ST_DWithin("
            "geography(p.location), geography(ST_GeomFromText('POINT(4.836 45.764)', 4326)), "
            "2000)"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "residents_place_location_geog_gist" in plan


def _explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_places_reaching_uses_the_reach_box_index(resident):
    PlaceFactory(device=resident.device)
    line = LineString((4.83, 45.76), (4.84, 45.77), srid=4326)

    plan = _explain(Place.objects.reaching(line).values("device_id"))

    assert "residents_place_reach_gist" in plan


@pytest.mark.parametrize(
    ("lon", "lat", "radius_m"),
    [(4.8357, 45.764, 500), (4.8357, 45.764, 5000), (18.0686, 59.3293, 1200), (-70.6, -33.45, 100)],
)
def test_places_reaching_matches_the_exact_geodesic_test(resident, lon, lat, radius_m):
    """Items just inside and just outside the circle, in every direction, at several latitudes."""
    place = PlaceFactory(device=resident.device, location=point(lon, lat), radius_m=radius_m)
    centre = (place.location.x, place.location.y)
    for bearing_deg in range(0, 360, 30):
        for factor, expected in ((0.97, True), (1.03, False)):
            target = _destination(*centre, bearing_deg, radius_m * factor)
            found = Place.objects.reaching(point(*target)).filter(pk=place.pk).exists()
            assert found is expected, (bearing_deg, factor)


def test_places_reaching_a_line_or_polygon_passing_by(resident):
    place = PlaceFactory(device=resident.device, location=point(4.8357, 45.764), radius_m=300)
    # A street 200 m north of the place, running east-west far beyond its box on both sides.
    lat = place.location.y + 200 / 111_195
    street = LineString((4.80, lat), (4.87, lat), srid=4326)
    far_street = LineString((4.80, lat + 0.01), (4.87, lat + 0.01), srid=4326)

    assert list(Place.objects.reaching(street)) == [place]
    assert not Place.objects.reaching(far_street).exists()
    assert Place.objects.reaching(street.buffer(0.0001)).exists()


def _destination(lon: float, lat: float, bearing_deg: float, distance_m: float):
    """The point ``distance_m`` from (lon, lat) on a sphere (ground truth for the tests)."""
    r = distance_m / 6_371_008.8
    phi, lmb, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    phi2 = math.asin(math.sin(phi) * math.cos(r) + math.cos(phi) * math.sin(r) * math.cos(theta))
    lmb2 = lmb + math.atan2(
        math.sin(theta) * math.sin(r) * math.cos(phi), math.cos(r) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(lmb2), math.degrees(phi2)


@pytest.mark.parametrize(
    "payload",
    [
        body(radius_m="800"),
        body(name=42),
        body(label=1),
        {**body(), "radius_m": True},
    ],
)
def test_place_fields_take_json_types_only(resident, payload):
    response = resident.client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert not Place.objects.exists()
