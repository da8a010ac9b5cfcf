"""Areas an item touches are computed from its geometry."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString

from apps.core.services import content_save
from apps.news.models import News
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, NewsFactory, square

pytestmark = pytest.mark.django_db


@pytest.fixture
def west_and_east():
    west = AreaFactory(slug="ouest", geometry=square(CENTRE_LON - 0.01, CENTRE_LAT, 0.005))
    east = AreaFactory(slug="est", geometry=square(CENTRE_LON + 0.01, CENTRE_LAT, 0.005))
    return west, east


def test_areas_follow_the_geometry(west_and_east):
    west, east = west_and_east
    news = NewsFactory.build(
        geometry=LineString(
            (CENTRE_LON - 0.012, CENTRE_LAT), (CENTRE_LON - 0.008, CENTRE_LAT), srid=4326
        )
    )
    news.category, news.organization = NewsFactory().category, NewsFactory().organization
    content_save(item=news)
    assert set(news.areas.all()) == {west}

    news.geometry = LineString(
        (CENTRE_LON - 0.012, CENTRE_LAT), (CENTRE_LON + 0.012, CENTRE_LAT), srid=4326
    )
    content_save(item=news)
    assert set(news.areas.all()) == {west, east}


def test_city_wide_news_touches_no_area(west_and_east):
    news = NewsFactory.build(geometry=None)
    news.category, news.organization = NewsFactory().category, NewsFactory().organization
    content_save(item=news)
    assert News.objects.get(pk=news.pk).areas.count() == 0
