"""The API's ``near`` and ``bbox`` filters run on spatial indexes (PostGIS query plans)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.geo import point
from apps.core.models import Category, Organization, Status
from apps.news.api.filters import NewsFilterSet
from apps.news.models import News
from apps.news.selectors import news_list
from tests.factories import CENTRE_LAT, CENTRE_LON

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_news():
    rng = random.Random(9)
    org = Organization.objects.create(slug="o", name="O")
    cat = Category.objects.create(slug="c", name_fr="C")
    past = timezone.now() - timedelta(hours=1)
    News.objects.bulk_create(
        News(
            title_fr=f"n{i}",
            organization=org,
            category=cat,
            status=Status.PUBLISHED,
            publish_at=past,
            geometry=point(
                CENTRE_LON + rng.uniform(-0.1, 0.1), CENTRE_LAT + rng.uniform(-0.1, 0.1)
            ),
        )
        for i in range(300)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE news_news")  # real statistics: every row is published


def _plan(params: dict) -> str:
    filterset = NewsFilterSet(data=params, queryset=news_list())
    assert filterset.is_valid(), filterset.errors
    sql, sql_params = filterset.qs.query.sql_with_params()
    with connection.cursor() as cursor:
        # Small tables favour sequential scans; forbid them to see whether an index matches.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, sql_params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _geometry_gist_index() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'news_news' "
            "AND indexdef LIKE '%%USING gist (geometry)%%'"
        )
        return cursor.fetchone()[0]


def test_near_filter_uses_the_geography_index(many_news):
    plan = _plan({"near": f"{CENTRE_LAT},{CENTRE_LON}", "radius": 2000})
    assert "news_news_geometry_geog_gist" in plan, plan


def test_bbox_filter_uses_the_geometry_index(many_news):
    plan = _plan({"bbox": f"{CENTRE_LON - 0.01},{CENTRE_LAT - 0.01},{CENTRE_LON},{CENTRE_LAT}"})
    assert _geometry_gist_index() in plan, plan
