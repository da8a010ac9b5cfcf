"""The planar band of ``Place.objects.reaching``: the same places as the geodesic test alone."""

from __future__ import annotations

import itertools
import math
import random
import uuid

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString, Polygon
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.geo import DistanceM, DWithinM, haversine_m, point
from apps.residents.models import Device, Place
from apps.residents.spatial import ReachesExactly, planar_band

pytestmark = pytest.mark.django_db

KINDS = ("point", "line", "polygon")


def _offset(lon: float, lat: float, bearing: float, metres: float) -> tuple[float, float]:
    dlat = metres * math.cos(bearing) / 111_000
    dlon = metres * math.sin(bearing) / (111_000 * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def _item(kind: str, lon: float, lat: float, rng: random.Random) -> GEOSGeometry:
    if kind == "point":
        return point(lon, lat)
    if kind == "line":
        coords = [(lon, lat)]
        for _ in range(rng.randint(1, 5)):
            coords.append(_offset(*coords[-1], rng.uniform(0, 2 * math.pi), rng.uniform(50, 2000)))
        return LineString(coords, srid=4326)
    radius = rng.uniform(200, 1500)
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(rng.randint(3, 7)))
    ring = [_offset(lon, lat, a, radius) for a in angles]
    polygon = Polygon([*ring, ring[0]], srid=4326)
    return polygon if polygon.valid else polygon.convex_hull


def _places(device: Device, item: GEOSGeometry, rng: random.Random, n: int) -> list[Place]:
    """``n`` places around ``item`` whose radii sit mostly on the band's edges: each place's
    radius is its geodesic distance to the item give or take 0.6 %."""
    anchors = [item.centroid.coords, *(item.coords if item.geom_type == "LineString" else [])]
    places = []
    for _ in range(n):
        lon, lat = rng.choice(anchors)
        where = _offset(lon, lat, rng.uniform(0, 2 * math.pi), rng.uniform(0, 5600))
        places.append(Place(device=device, label="other", location=point(*where), radius_m=100))
    # Two far away (outside the band's box): the plain geodesic test decides them.
    c = item.centroid
    places.append(Place(device=device, label="other", location=point(c.x, c.y + 2), radius_m=5000))
    places.append(Place(device=device, label="other", location=point(c.x + 3, c.y), radius_m=5000))
    Place.objects.bulk_create(places)
    rows = Place.objects.filter(device=device).annotate(d=DistanceM("location", item))
    for place, (pk, distance) in zip(places, rows.values_list("pk", "d"), strict=True):
        assert place.pk == pk
        if rng.random() < 0.8:
            radius = round(distance * (1 + rng.uniform(-0.006, 0.006)))
        else:
            radius = rng.randint(100, 5000)
        place.radius_m = min(5000, max(100, radius))
    Place.objects.bulk_update(places, ["radius_m"])
    return places


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(KINDS),
    lon=st.floats(-170, 170),
    # The band stops 0.1° short of BAND_MAX_LAT (70°) and lines reach 0.09° from their start:
    # items up to 69.5° all get a band (the fallback beyond is the next test's).
    lat=st.floats(-60, 69.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_banded_test_equals_the_geodesic_test(kind, lon, lat, seed):
    rng = random.Random(seed)
    device = Device.objects.create(platform="android", token_hash=uuid.uuid4().hex)
    item = _item(kind, lon, lat, rng)
    places = _places(device, item, rng, 60)
    mine = Place.objects.filter(device=device)

    geodesic = _ids(mine.filter(DWithinM("location", item, F("radius_m"))))

    assert planar_band(item, Place.RADIUS_MAX_M) is not None
    assert _ids(mine.reaching(item)) == geodesic
    assert _ids(mine.reaching_exactly(item)) == geodesic
    assert 0 < len(geodesic) < len(places)  # the sample straddles the circles
    if kind == "point":  # and the sphere agrees away from the circle (0.6 % ellipsoid vs sphere)
        for place in places:
            d = haversine_m(place.location.x, place.location.y, item.x, item.y)
            if abs(d - place.radius_m) > 0.01 * place.radius_m:
                assert (place.pk in geodesic) is (d < place.radius_m), (d, place.radius_m)


@pytest.mark.parametrize(("kind", "lon", "lat"), [("point", 0.0, 70.0), ("line", 25.0, 78.2)])
def test_banded_test_near_a_pole_falls_back_to_the_geodesic_test(kind, lon, lat):
    """Found by hypothesis at (point, 0°, 70°): no band there, and the exact test decides."""
    rng = random.Random(7)
    device = Device.objects.create(platform="android", token_hash=uuid.uuid4().hex)
    item = _item(kind, lon, lat, rng)
    _places(device, item, rng, 40)
    mine = Place.objects.filter(device=device)

    geodesic = _ids(mine.filter(DWithinM("location", item, F("radius_m"))))

    assert planar_band(item, Place.RADIUS_MAX_M) is None
    assert _ids(mine.reaching(item)) == geodesic
    assert 0 < len(geodesic) < mine.count()


def test_band_decides_most_places_without_the_geodesic_test():
    """The band is thin: most places near a roadwork fall outside it (no geodesic test)."""
    street = LineString((4.83, 45.76), (4.85, 45.765), (4.86, 45.77), srid=4326)
    band = planar_band(street, Place.RADIUS_MAX_M)

    assert band is not None
    assert 0.995 < band.accept_k < 1 < band.reject_k < 1.002
    assert band.accept_m < 0.5 and band.reject_m < 0.5  # metres


@pytest.mark.parametrize(
    "geometry",
    [
        LineString((4.8, 45.0), (4.8, 46.5), srid=4326),  # spans more than 1° of latitude
        LineString((0.0, 45.0), (3.0, 45.0), srid=4326),  # more than 2° of longitude
        point(10.0, 71.0),  # too close to a pole
        point(179.99, 10.0),  # at the antimeridian
    ],
)
def test_large_polar_or_antimeridian_items_use_the_geodesic_test_alone(geometry):
    assert planar_band(geometry, Place.RADIUS_MAX_M) is None
    sql, _ = Place.objects.reaching(geometry).query.sql_with_params()
    assert "ST_Scale" not in sql and "ST_DWithin(geography" in sql


def test_a_large_item_still_reaches_the_same_places():
    device = Device.objects.create(platform="android", token_hash="band-large")
    rng = random.Random(5)
    long_road = LineString((4.8, 45.0), (4.9, 45.7), (4.95, 46.3), srid=4326)
    _places(device, long_road, rng, 40)
    mine = Place.objects.filter(device=device)

    geodesic = _ids(mine.filter(DWithinM("location", long_road, F("radius_m"))))

    assert _ids(mine.reaching(long_road)) == geodesic
    assert geodesic


def test_the_band_and_its_box_are_in_the_sql():
    street = LineString((4.83, 45.76), (4.85, 45.765), srid=4326)

    boxed, _ = Place.objects.reaching(street).query.sql_with_params()
    alone, _ = Place.objects.reaching_exactly(street).query.sql_with_params()

    assert "ST_Scale" in boxed and "ST_MakeEnvelope" not in boxed  # the reach boxes bound it
    assert "ST_Scale" in alone and "ST_MakeEnvelope" in alone


@pytest.mark.django_db(databases=["default", "spatialite"])
def test_spatialite_keeps_its_plain_test_and_agrees_with_postgis():
    """SpatiaLite has no band (nor reach boxes): ``reaching`` is its plain ellipsoidal test.
    Its point-to-line distance differs from PostGIS's by up to a few per cent, so the two
    databases are compared away from the circles (5 %); for a point item, everywhere."""
    rng = random.Random(11)
    items = [_item(kind, 4.83, 45.76, rng) for kind in KINDS]
    where = [
        (_offset(4.83, 45.76, rng.uniform(0, 2 * math.pi), rng.uniform(0, 4000)), r)
        for r in itertools.islice(iter(lambda: rng.randint(100, 5000), None), 80)
    ]
    found: dict[str, list[dict[tuple[float, float, int], bool]]] = {}
    for alias in ("default", "spatialite"):
        device = Device.objects.using(alias).create(platform="android", token_hash="band-lite")
        Place.objects.using(alias).bulk_create(
            Place(device=device, label="other", location=point(*at), radius_m=r) for at, r in where
        )
        mine = Place.objects.using(alias).filter(device=device)
        found[alias] = []
        for item in items:
            reached = _ids(mine.reaching(item))
            plain = _ids(mine.filter(DWithinM("location", item, F("radius_m"))))
            assert reached == plain
            found[alias].append(
                {(p.location.x, p.location.y, p.radius_m): p.pk in reached for p in mine}
            )
    for item, lite, post in zip(items, found["spatialite"], found["default"], strict=True):
        assert lite.keys() == post.keys()
        assert any(post.values()) and not all(post.values())
        for (x, y, r), reached in post.items():
            d = (
                Place.objects.filter(location=point(x, y))
                .annotate(d=DistanceM("location", item))
                .values_list("d", flat=True)[0]
            )
            if item.geom_type == "Point" or abs(d - r) > 0.05 * r:
                assert lite[(x, y, r)] is reached, (item.geom_type, d, r)


def test_a_roadwork_of_the_city_gets_a_band_in_either_hemisphere():
    for lat in (45.76, -33.45, 0.0005):
        expression = ReachesExactly(point(4.83, lat), Place.RADIUS_MAX_M)
        assert expression.band is not None
        assert expression.band.box[1] < lat < expression.band.box[3]
