"""Bad input to the feed: a 400 with the error shape naming the parameter, never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.recommend.feed_support import URL, news

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lat": "91", "lon": "4.8"}, "lat"),
        ({"lat": "-90.5", "lon": "4.8"}, "lat"),
        ({"lat": "45.7", "lon": "181"}, "lon"),
        ({"lat": "45.7", "lon": "abc"}, "lon"),
        ({"lat": "nan", "lon": "4.8"}, "lat"),
        ({"lat": "45.7", "lon": "inf"}, "lon"),
        ({"lat": "45,7", "lon": "4.8"}, "lat"),
        ({"lat": "45.7"}, "lon"),
        ({"lon": "4.8"}, "lat"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1000"}, "page_size"),
        ({"page_size": "-3"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "x" * 400}, "cursor"),
        ({"cursor": "eyJzIjoiYWJjIiwibyI6LTF9:1tZZZZ:forged"}, "cursor"),
        ({"near": "45.7,4.8"}, "near"),
    ],
)
def test_bad_query_parameters_are_400_with_the_error_shape(query, field):
    news(100)
    response = APIClient().get(URL, query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["fields"], body


def test_bad_input_from_a_device_is_a_400_too(resident):
    response = resident.client.get(URL, {"lat": "91", "lon": "0"})
    assert response.status_code == 400
    assert "lat" in response.json()["fields"]


def test_valid_edges_are_accepted():
    news(100)
    client = APIClient()
    assert client.get(URL, {"lat": "-90", "lon": "180", "page_size": "1"}).status_code == 200
    assert client.get(URL, {"lat": " 45.7 ", "lon": "4.8", "page_size": "100"}).status_code == 200
