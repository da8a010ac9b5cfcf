"""Hostile input on every route that reads it: a 400 in the error shape, never a 500.

Search text that PostgreSQL's ``websearch_to_tsquery`` cannot take (33 ``-`` overflowed its
stack), JSON nested deeper than Python's recursion limit, and numbers too large for a double,
each on every route listed in issue 11; each must change nothing.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.events.models import Event
from apps.news.models import News
from apps.recommend.models import Interaction
from apps.residents.models import Device, Place
from apps.works.models import Works
from tests.api_support import key_client, published_news

pytestmark = pytest.mark.django_db

SEARCH_PATHS = ["/api/v1/news/", "/api/v1/works/", "/api/v1/events/", "/api/v1/events/ical/"]
HOSTILE_QUERIES = {
    "33 dashes": "-" * 33,
    "200 dashes": "-" * 200,
    "spaced dashes": "- " * 60,
    "dashes before a word": "-" * 40 + "concert",
    "dashed quotes": '-"' * 80,
    "bangs": "!" * 200,
    "prefix operators": ":*" * 100,
    "quotes": '"' * 200,
    "and or": "&|" * 100,
    "parentheses": "(" * 100 + ")" * 100,
    "or chain": "or " * 66,
    "many terms": "a " * 100,
    "many negated terms": "-a " * 66,
    "unicode": "\u202e\u0301\ufeff" * 60,
}


@pytest.mark.parametrize("path", SEARCH_PATHS)
@pytest.mark.parametrize("q", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_search_hostile_text_is_answered_without_server_error(path, q, mobility):
    published_news(category=mobility, title_fr="Concert gratuit")

    response = APIClient().get(path, {"q": q})

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["error"] == "invalid"
        assert "q" in response.json()["fields"]


@pytest.mark.parametrize("path", SEARCH_PATHS)
def test_search_nul_byte_is_a_400_naming_q(path):
    response = APIClient().get(path, {"q": "concert\x00"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["q"]


def test_search_too_many_words_is_a_400_naming_q():
    response = APIClient().get("/api/v1/news/", {"q": " ".join(["mot"] * 33)})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["q"]


def test_search_still_honours_negation_phrases_and_or(mobility):
    free = published_news(category=mobility, title_fr="Concert gratuit au parc")
    paid = published_news(category=mobility, title_fr="Concert payant en salle")

    def found(q: str) -> list[int]:
        return sorted(i["id"] for i in APIClient().get("/api/v1/news/", {"q": q}).json()["results"])

    assert found("concert ---payant") == [free.pk]
    assert found('"concert gratuit"') == [free.pk]
    assert found("gratuit or payant") == sorted([free.pk, paid.pk])
    assert found("-- -") == []


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


DEEP = {"very deep": "[" * 100_000 + "]" * 100_000, "deep objects": _nested(5000)}


def _routes(resident, city):
    publisher = key_client(city)
    return [
        (APIClient(), "post", "/api/v1/devices/"),
        (resident.client, "patch", "/api/v1/me/"),
        (resident.client, "post", "/api/v1/me/places/"),
        (resident.client, "put", "/api/v1/me/interests/"),
        (resident.client, "post", "/api/v1/me/saved/"),
        (resident.client, "put", "/api/v1/me/push-token/"),
        (resident.client, "post", "/api/v1/interactions/"),
        (publisher, "post", "/api/v1/news/"),
        (publisher, "post", "/api/v1/works/"),
        (publisher, "post", "/api/v1/events/"),
    ]


@pytest.mark.parametrize("raw", DEEP.values(), ids=DEEP.keys())
def test_deeply_nested_json_is_a_400_on_every_body(raw, resident, city):
    devices = Device.objects.count()
    for client, method, path in _routes(resident, city):
        response = client.generic(method.upper(), path, raw, content_type="application/json")

        assert response.status_code == 400, (path, response.status_code)
        assert response.json()["error"] == "parse_error", path
    assert Device.objects.count() == devices
    assert not (Place.objects.exists() or Interaction.objects.exists())
    assert not (News.objects.exists() or Works.objects.exists() or Event.objects.exists())


HUGE = "9" * 400
HUGE_NUMBERS = {
    "integer": HUGE,
    "negative integer": "-" + HUGE,
    "exponent": "1e400",
    "integer beyond 64 bits": "123456789012345678901234567890",
}


@pytest.mark.parametrize("number", HUGE_NUMBERS.values(), ids=HUGE_NUMBERS.keys())
def test_huge_coordinate_is_a_400_on_places(number, resident):
    raw = (
        f'{{"label": "home", "location": {{"type": "Point", "coordinates": [{number}, 45.76]}}, '
        '"radius_m": 500}'
    )
    response = resident.client.generic(
        "POST", "/api/v1/me/places/", raw, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["error"] in ("invalid", "parse_error")
    assert not Place.objects.exists()


@pytest.mark.parametrize("number", HUGE_NUMBERS.values(), ids=HUGE_NUMBERS.keys())
@pytest.mark.parametrize("path", ["/api/v1/news/", "/api/v1/works/", "/api/v1/events/"])
def test_huge_coordinate_is_a_400_on_publishing(path, number, city, mobility):
    raw = (
        '{"title_fr": "Titre", "category": "mobilite", "start_at": "2030-01-01T10:00:00Z", '
        '"end_at": "2030-01-01T12:00:00Z", '
        f'"geometry": {{"type": "Point", "coordinates": [4.83, {number}]}}}}'
    )
    response = key_client(city).generic("POST", path, raw, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["error"] in ("invalid", "parse_error")
    assert not (News.objects.exists() or Works.objects.exists() or Event.objects.exists())


@pytest.mark.parametrize("number", HUGE_NUMBERS.values(), ids=HUGE_NUMBERS.keys())
def test_huge_number_in_any_numeric_field_is_a_400(number, resident):
    raw = (
        '{"label": "home", "location": {"type": "Point", "coordinates": [4.83, 45.76]}, '
        f'"radius_m": {number}}}'
    )
    response = resident.client.generic(
        "POST", "/api/v1/me/places/", raw, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert not Place.objects.exists()


def test_every_api_view_parses_json_with_the_bounded_parser():
    from django.urls import get_resolver
    from rest_framework.views import APIView

    from apps.core.api.parsers import BoundedJSONParser

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield getattr(pattern.callback, "cls", None)

    checked = [view for view in views(get_resolver().url_patterns) if view is not None]
    assert checked
    for view in checked:
        if issubclass(view, APIView):
            assert view.parser_classes == [BoundedJSONParser], view


PERCENT_VALUES = {"format directive": "%d", "mapping key": "%(x)s", "lone percent": "50%"}


@pytest.mark.parametrize("value", PERCENT_VALUES.values(), ids=PERCENT_VALUES.keys())
@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/works/", "status"), ("/api/v1/works/", "impact"), ("/api/v1/events/", "audience")],
)
def test_enum_parameter_with_percent_signs_is_a_400_naming_it(path, name, value):
    # Found by make fuzz: the message quoted the value, then django-filter %-formatted it again.
    response = APIClient().get(path, {name: value})

    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [name]
    assert value in response.json()["fields"][name][0]
