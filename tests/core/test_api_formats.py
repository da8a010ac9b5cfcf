"""GeoJSON (RFC 7946) output: FeatureCollection/Feature, lon/lat, no crs, read back by GDAL."""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.gdal import DataSource
from django.contrib.gis.geos import LineString
from rest_framework.test import APIClient

from apps.core.geo import WGS84
from tests.api_support import published_news, published_works
from tests.factories import CENTRE_LAT, CENTRE_LON

pytestmark = pytest.mark.django_db


def _walk(value):
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _read_with_gdal(tmp_path, document: dict) -> DataSource:
    path = tmp_path / "page.geojson"
    path.write_text(json.dumps(document))
    return DataSource(str(path))


def test_list_as_feature_collection_is_valid_geojson(tmp_path, mobility):
    point = published_news(category=mobility, title_fr="Point")
    citywide = published_news(category=mobility, title_fr="Toute la ville", geometry=None)
    street = published_works(
        category=mobility,
        geometry=LineString(
            (CENTRE_LON, CENTRE_LAT), (CENTRE_LON + 0.01, CENTRE_LAT + 0.002), srid=WGS84
        ),
    )

    response = APIClient().get("/api/v1/news/", {"format": "geojson"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["count"] == 2 and collection["next"] is None  # foreign members
    assert not any("crs" in node for node in _walk(collection))
    features = {feature["id"]: feature for feature in collection["features"]}
    assert set(features) == {point.pk, citywide.pk}
    for feature in features.values():
        assert feature["type"] == "Feature"
        assert "geometry" not in feature["properties"]
        assert feature["properties"]["id"] == feature["id"]
    assert features[point.pk]["geometry"] == {
        "type": "Point",
        "coordinates": [CENTRE_LON, CENTRE_LAT],  # longitude first
    }
    assert features[citywide.pk]["geometry"] is None
    layer = _read_with_gdal(tmp_path, collection)[0]
    assert len(layer) == 2
    assert layer.srs.srid == WGS84

    works = APIClient().get("/api/v1/works/", HTTP_ACCEPT="application/geo+json")
    assert works["Content-Type"].startswith("application/geo+json")
    line = works.json()["features"][0]
    assert line["id"] == street.pk and line["geometry"]["type"] == "LineString"
    assert line["geometry"]["coordinates"][0] == [CENTRE_LON, CENTRE_LAT]


def test_geojson_pagination_members(mobility):
    for _ in range(3):
        published_news(category=mobility)
    page = APIClient().get("/api/v1/news/", {"format": "geojson", "page_size": 2}).json()
    assert page["count"] == 3
    assert len(page["features"]) == 2
    assert "page=2" in page["next"] and "format=geojson" in page["next"]


def test_detail_as_feature(tmp_path, mobility):
    news = published_news(category=mobility)
    feature = APIClient().get(f"/api/v1/news/{news.pk}/", {"format": "geojson"}).json()
    assert feature["type"] == "Feature" and feature["id"] == news.pk
    assert feature["properties"]["title"] == news.title
    layer = _read_with_gdal(tmp_path, {"type": "FeatureCollection", "features": [feature]})[0]
    assert next(iter(layer)).geom.coords == (CENTRE_LON, CENTRE_LAT)


def test_areas_as_geojson(centre, tmp_path):
    collection = APIClient().get("/api/v1/areas/", {"format": "geojson"}).json()
    assert collection["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert collection["features"][0]["properties"]["slug"] == "centre"
    assert len(_read_with_gdal(tmp_path, collection)[0]) == 1


def test_json_stays_the_default():
    response = APIClient().get("/api/v1/news/")
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"count", "next", "previous", "results"}
