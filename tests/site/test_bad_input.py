"""Whatever a visitor or a webmaster types in a site address: a clear 4xx or a page, never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

ROUTES = [
    "/feeds/all.atom",
    "/feeds/events.atom",
    "/en/feeds/works.atom",
    "/widgets/agenda/",
    "/widgets/works/",
    "/widgets/alerts/",
    "/widgets/",
]
NAMES = st.sampled_from(["category", "area", "limit", "level", "lang", "x", "page"])
VALUES = st.text(max_size=40) | st.sampled_from(["0", "-1", "31", "1e9", "alert", "a,b,,c", ""])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(ROUTES), query=st.lists(st.tuples(NAMES, VALUES), max_size=4))
def test_feeds_and_widgets_answer_200_or_400(client, route, query):
    url = route + "?" + "&".join(f"{quote(name)}={quote(value)}" for name, value in query)
    response = client.get(url)
    assert response.status_code in (200, 400), url
    if response.status_code == 400:
        assert response["Content-Type"].startswith("text/plain")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(["", "/en"]),
    type_code=st.sampled_from(["news", "works", "events", "new", "evenements"]),
    rest=st.text(max_size=60),
)
def test_page_addresses_answer_404_or_a_redirect(client, prefix, type_code, rest):
    response = client.get(f"{prefix}/{type_code}/{quote(rest)}/")
    assert response.status_code in (301, 404), rest
