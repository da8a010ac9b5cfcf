"""The one "within N metres" helper: index use on PostGIS, agreement with haversine on both."""

from __future__ import annotations

import random

import pytest
from django.contrib.gis.geos import LineString
from django.db import connections
from django.db.models import Value

from apps.core.geo import WGS84, annotate_distance_m, haversine_m, point, within_m
from apps.core.models import Category, Organization
from apps.news.models import News
from tests.factories import CENTRE_LAT, CENTRE_LON

RADIUS_M = 1500.0
# Ellipsoidal distance differs from the spherical ground truth by well under 0.5 %.
BORDER = 0.01


def _seed_points(alias: str, n: int, seed: int) -> list[tuple[int, float, float]]:
    rng = random.Random(seed)
    org = Organization.objects.using(alias).create(slug=f"o-{alias}", name="O")
    cat = Category.objects.using(alias).create(slug=f"c-{alias}", name_fr="C")
    rows = []
    for i in range(n):
        lon = CENTRE_LON + rng.uniform(-0.04, 0.04)
        lat = CENTRE_LAT + rng.uniform(-0.03, 0.03)
        rows.append(
            News(title_fr=f"n{i}", organization=org, category=cat, geometry=point(lon, lat))
        )
    created = News.objects.using(alias).bulk_create(rows)
    return [(n.pk, n.geometry.x, n.geometry.y) for n in created]


def _expected(points, centre_lon, centre_lat) -> tuple[set[int], set[int]]:
    """Ids clearly inside, and ids too close to the border to judge."""
    inside, border = set(), set()
    for pk, lon, lat in points:
        d = haversine_m(centre_lon, centre_lat, lon, lat)
        if abs(d - RADIUS_M) <= RADIUS_M * BORDER:
            border.add(pk)
        elif d < RADIUS_M:
            inside.add(pk)
    return inside, border


@pytest.mark.django_db(databases=["default", "spatialite"])
@pytest.mark.parametrize("alias", ["default", "spatialite"])
def test_within_m_agrees_with_haversine(alias):
    points = _seed_points(alias, 400, seed=7)
    centre = point(CENTRE_LON, CENTRE_LAT)
    inside, border = _expected(points, CENTRE_LON, CENTRE_LAT)
    assert 20 < len(inside) < 380  # the sample straddles the circle

    found = set(within_m(News.objects.using(alias), centre, RADIUS_M).values_list("pk", flat=True))

    assert found - border == inside


@pytest.mark.django_db(databases=["default", "spatialite"])
@pytest.mark.parametrize("alias", ["default", "spatialite"])
def test_annotate_distance_m_matches_haversine(alias):
    points = _seed_points(alias, 50, seed=11)
    centre = point(CENTRE_LON, CENTRE_LAT)
    rows = annotate_distance_m(News.objects.using(alias), centre).values_list("pk", "distance_m")
    truth = {pk: haversine_m(CENTRE_LON, CENTRE_LAT, lon, lat) for pk, lon, lat in points}

    for pk, distance in rows:
        assert distance == pytest.approx(truth[pk], rel=0.005)


@pytest.mark.django_db(databases=["default", "spatialite"])
@pytest.mark.parametrize("alias", ["default", "spatialite"])
def test_within_m_measures_to_the_nearest_point_of_a_line(alias):
    org = Organization.objects.using(alias).create(slug="o", name="O")
    cat = Category.objects.using(alias).create(slug="c", name_fr="C")
    # A 2 km east-west street; the centre is 300 m north of its middle.
    street = LineString(
        (CENTRE_LON - 0.013, CENTRE_LAT), (CENTRE_LON + 0.013, CENTRE_LAT), srid=WGS84
    )
    item = News.objects.using(alias).create(
        title_fr="rue", organization=org, category=cat, geometry=street
    )
    north = point(CENTRE_LON, CENTRE_LAT + 0.0027)  # ~300 m

    near = within_m(News.objects.using(alias), north, 350)
    far = within_m(News.objects.using(alias), north, 250)

    assert list(near.values_list("pk", flat=True)) == [item.pk]
    assert not far.exists()


@pytest.mark.django_db
def test_within_m_uses_the_geography_gist_index_on_postgis():
    _seed_points("default", 200, seed=3)
    queryset = within_m(News.objects.all(), point(CENTRE_LON, CENTRE_LAT), RADIUS_M)
    sql, params = queryset.query.sql_with_params()
    with connections["default"].cursor() as cursor:
        # Tiny tables favour a sequential scan; forbid it to prove the index matches.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "news_news_geometry_geog_gist" in plan, plan


@pytest.mark.django_db
def test_within_m_accepts_a_per_row_radius_expression():
    _seed_points("default", 100, seed=5)
    queryset = within_m(News.objects.all(), point(CENTRE_LON, CENTRE_LAT), Value(RADIUS_M))
    plain = within_m(News.objects.all(), point(CENTRE_LON, CENTRE_LAT), RADIUS_M)

    assert set(queryset.values_list("pk", flat=True)) == set(plain.values_list("pk", flat=True))
