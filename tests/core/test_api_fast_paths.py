"""The list path's tuning: same output as the plain way, fewer bytes and better plans."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from rest_framework_gis.fields import GeometryField

from apps.core.api.fields import geojson_geometry
from apps.core.geo import point, within_m
from apps.events.api.serializers import EventListItemSerializer
from apps.events.selectors import event_detail, event_list
from apps.news.api.serializers import NewsListItemSerializer
from apps.news.models import News
from apps.news.selectors import news_detail, news_list
from apps.works.selectors import works_detail, works_list
from tests.core.test_api_geo_plan import many_news  # noqa: F401  (fixture)
from tests.factories import CENTRE_LAT, CENTRE_LON

GEOMETRIES = [
    "POINT(4.8357123456 45.7640987654)",
    "POINT Z (4.8 45.7 12.5)",
    "LINESTRING(4.8 45.7, 4.81 45.71, 4.82 45.705)",
    "POLYGON((4.8 45.7, 4.81 45.7, 4.81 45.71, 4.8 45.7),"
    "(4.802 45.702, 4.803 45.702, 4.803 45.703, 4.802 45.702))",
    "MULTIPOINT((4.8 45.7),(4.9 45.8))",
    "MULTILINESTRING((4.8 45.7, 4.81 45.71),(4.9 45.8, 4.91 45.81))",
    "MULTIPOLYGON(((4.8 45.7, 4.81 45.7, 4.81 45.71, 4.8 45.7)))",
    "GEOMETRYCOLLECTION(POINT(4.8 45.7), LINESTRING(4.8 45.7, 4.81 45.71))",
    "POINT EMPTY",
    "LINESTRING EMPTY",
]


@pytest.mark.parametrize("wkt", GEOMETRIES)
def test_geojson_from_wkb_equals_the_gdal_path(wkt):
    geometry = GEOSGeometry(wkt, srid=4326)
    expected = json.loads(json.dumps(GeometryField(precision=7).to_representation(geometry)))
    assert geojson_geometry(geometry) == expected


def test_geojson_rounds_to_the_precision():
    geometry = GEOSGeometry("POINT(4.123456789 45.987654321)", srid=4326)
    assert geojson_geometry(geometry, 3)["coordinates"] == [4.123, 45.988]


@pytest.mark.django_db
def test_lists_leave_bodies_out_and_details_load_them():
    for selector in (news_list, works_list, event_list):
        sql = str(selector().query)
        assert not re.search(r'\."body(_fr|_en)?"', sql), sql
    assert '"works_works"."detour_geometry"' not in str(works_list().query)
    for selector in (news_detail, works_detail, event_detail):
        assert '."body_fr"' in str(selector().query)


def test_read_serializers_copy_their_fields_per_instance():
    first, second = NewsListItemSerializer(), NewsListItemSerializer()
    assert first.fields.keys() == second.fields.keys()
    assert first.fields["title"] is not second.fields["title"]
    assert first.fields["title"].parent is first and second.fields["title"].parent is second
    assert first.fields["category"].fields["slug"] is not second.fields["category"].fields["slug"]
    assert "venue" in EventListItemSerializer().fields


def _estimated_rows(queryset) -> float:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        return cursor.fetchone()[0][0]["Plan"]["Plan Rows"]


@pytest.mark.django_db
def test_a_fixed_radius_is_estimated_from_the_index_statistics(many_news):  # noqa: F811
    centre = point(CENTRE_LON, CENTRE_LAT)
    queryset = within_m(News.objects.all(), centre, 4000)
    actual = queryset.count()
    estimate = _estimated_rows(queryset)
    # ST_DWithin's own estimate was a single row whatever the radius; joins then went wrong.
    assert actual > 20 and actual / 5 <= estimate <= actual * 5, (estimate, actual)


def _plan(queryset, *settings: str) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_the_default_order_is_read_from_its_index(many_news):  # noqa: F811
    from apps.news.api.filters import NewsFilterSet

    filterset = NewsFilterSet(data={}, queryset=news_list())
    assert filterset.is_valid()
    page = filterset.qs[:20]
    plan = _plan(page, "enable_seqscan = off", "enable_sort = off")
    assert "news_public_order" in plan, plan


@pytest.mark.django_db
def test_search_ranks_stored_documents(many_news):  # noqa: F811
    from apps.core.search import search

    queryset = search(news_list(), "travaux")
    sql = str(queryset.query)
    assert '"news_news"."search_fr"' in sql and '"news_news"."search_en"' in sql
    assert "to_tsvector" not in sql  # the documents are read, not parsed again
    # (test_api_search checks that the GIN indexes, now on these columns, are used.)
