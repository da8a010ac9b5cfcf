"""Every list endpoint reads its query the same way (architecture.md §5): unknown or malformed
is a 400.

One table over every list route of the API: content lists and their iCalendar feed, taxonomy,
removals, the open works feeds, the ``/me/`` lists, received notifications and the ranked feed.
"""

from __future__ import annotations

import pytest

from tests.residents.factories import make_resident

# (route, paginated by page numbers, needs a device token)
LIST_ROUTES = [
    ("/api/v1/news/", True, False),
    ("/api/v1/works/", True, False),
    ("/api/v1/events/", True, False),
    ("/api/v1/events/ical/", False, False),  # checks the list's pages, has none
    ("/api/v1/categories/", True, False),
    ("/api/v1/organizations/", True, False),
    ("/api/v1/areas/", True, False),
    ("/api/v1/removed/", True, False),
    ("/api/v1/feeds/works.wzdx.geojson", False, False),
    ("/api/v1/feeds/works.cifs.xml", False, False),
    ("/api/v1/feeds/works.datex2.xml", False, False),
    ("/api/v1/me/places/", False, True),
    ("/api/v1/me/saved/", True, True),
    ("/api/v1/me/notifications/", True, True),
    ("/api/v1/feed/", False, False),
]
ROUTE_IDS = [route for route, _paged, _device in LIST_ROUTES]
PAGED = [(route, device) for route, paged, device in LIST_ROUTES if paged]
PAGED_IDS = [route for route, _device in PAGED]


def _get(client, route: str, query: str, device: bool):
    if device:
        client = make_resident().client
    return client.get(f"{route}?{query}")


def _assert_invalid(response, name: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["error"] == "invalid"
    assert name in body["fields"], body


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "paged", "device"), LIST_ROUTES, ids=ROUTE_IDS)
def test_list_routes_refuse_an_unknown_query_parameter(client, route, paged, device):
    _assert_invalid(_get(client, route, "foo=1", device), "foo")


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "paged", "device"), LIST_ROUTES, ids=ROUTE_IDS)
def test_list_routes_refuse_a_malformed_page_size(client, route, paged, device):
    # Unknown where the route has no pages, malformed where it has: a 400 naming it, either way.
    _assert_invalid(_get(client, route, "page_size=abc", device), "page_size")


@pytest.mark.django_db
def test_list_routes_news_with_an_unknown_and_a_malformed_parameter_is_a_400(client):
    response = client.get("/api/v1/news/?page_size=abc&foo=1")
    _assert_invalid(response, "foo")


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "device"), PAGED, ids=PAGED_IDS)
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("page_size=0", "page_size"),
        ("page_size=-3", "page_size"),
        ("page_size=1.5", "page_size"),
        ("page_size=", "page_size"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=", "page"),
        ("page=last", "page"),
        ("page=99999999999999999999", "page"),
    ],
)
def test_list_routes_refuse_malformed_pages(client, route, device, query, name):
    _assert_invalid(_get(client, route, query, device), name)


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "device"), PAGED, ids=PAGED_IDS)
def test_list_routes_read_valid_pages(client, route, device):
    response = _get(client, route, "page=1&page_size=500", device)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []
    # A page past the end is still a 404, as before.
    assert _get(client, route, "page=9", device).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "device"), PAGED, ids=PAGED_IDS)
def test_list_routes_check_pages_before_a_conditional_answer(client, route, device):
    if device:
        client = make_resident().client
    etag = client.get(route)["ETag"] if not device else None
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    response = client.get(f"{route}?page_size=abc", **headers)
    _assert_invalid(response, "page_size")


@pytest.mark.django_db
def test_list_routes_events_ical_checks_the_list_pages(client):
    _assert_invalid(client.get("/api/v1/events/ical/?page=0"), "page")
    assert client.get("/api/v1/events/ical/?page_size=2").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["/api/v1/categories/", "/api/v1/me/saved/"])
def test_list_routes_answer_405_to_an_unhandled_method_whatever_the_query(client, route):
    if "/me/" in route:
        client = make_resident().client
    assert client.generic("TRACE", f"{route}?page=0&foo=1").status_code == 405


@pytest.mark.django_db
def test_list_routes_feed_refuses_a_garbage_cursor(client):
    _assert_invalid(client.get("/api/v1/feed/?cursor=garbage"), "cursor")
