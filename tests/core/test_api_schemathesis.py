"""Schemathesis over the whole OpenAPI schema: no server error, every response as documented.

The schema is loaded from the running WSGI application, so routes added later are fuzzed too.
Write operations that accept an organization API key get one (so successful writes are
checked as well); every other operation is called as an anonymous client would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from werkzeug.test import Client

from apps.core.models import Tombstone
from apps.core.services import api_key_create
from tests.api_support import published_event, published_news, published_works

#: Examples per operation and generation mode: modest, to keep CI fast (architecture.md §8).
MAX_EXAMPLES = 12
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260301,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
        # Examples from the schema, then random (valid and invalid) requests; the exhaustive
        # boundary-value "coverage" phase and the stateful phase would take minutes.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
        },
    }
)


#: The WSGI application under test; its schema is read once, at collection.
APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", APP, config=CONFIG)


@pytest.fixture
def wsgi_app(db, settings):
    """The real WSGI application, run in the test's transaction (as Django's test client does)."""
    rates = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield APP
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def city_data(city, mobility, centre):
    """Some public content of every type, so that lists and details serialize real rows."""
    from tests.factories import VenueFactory

    published_news(organization=city, category=mobility, title_en="News")
    published_works(organization=city, category=mobility, road_names=["rue Garibaldi"])
    published_event(
        organization=city, category=mobility, venue=VenueFactory(), rrule="FREQ=WEEKLY;COUNT=3"
    )
    Tombstone.objects.create(
        item_type="news", item_id=999, reason="deleted", removed_at=timezone.now()
    )
    _key, raw = api_key_create(organization=city, name="schemathesis")
    return raw


@schema.parametrize()
@settings(
    # The database fixtures are deliberately shared by every example of an operation.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
    database=None,
)
@pytest.mark.slow
def test_api_conforms_to_its_schema(case, wsgi_app, city_data):
    headers = {}
    security = case.operation.definition.raw.get("security", [])
    if {"organizationApiKey": []} in security:
        headers["Authorization"] = f"Api-Key {city_data}"
    case.call_and_validate(headers=headers)


@pytest.mark.django_db
def test_real_responses_conform_to_the_schema(wsgi_app, city_data):
    """Details, GeoJSON and iCalendar of real items, validated against the schema."""
    loaded = schema
    client = Client(wsgi_app)
    from apps.events.models import Event
    from apps.news.models import News
    from apps.works.models import Works

    ids = {
        "news": News.objects.get().pk,
        "works": Works.objects.get().pk,
        "events": Event.objects.get().pk,
    }
    cases = [
        ("/api/v1/{type}/", "/api/v1/{type}/?near=45.764,4.8357", {}),
        ("/api/v1/{type}/", "/api/v1/{type}/?format=geojson", {}),
        ("/api/v1/{type}/{id}/", "/api/v1/{type}/{pk}/", {}),
        ("/api/v1/{type}/{id}/", "/api/v1/{type}/{pk}/?format=geojson", {}),
        ("/api/v1/{type}/{id}/", "/api/v1/{type}/{pk}/", {"Accept-Language": "en"}),
    ]
    for kind, pk in ids.items():
        for template, url, headers in cases:
            operation = loaded[template.replace("{type}", kind)]["GET"]
            response = client.get(url.format(type=kind, pk=pk), headers=headers)
            assert response.status_code == 200, (url, response.data)
            operation.validate_response(response)
    ical = client.get(f"/api/v1/events/{ids['events']}/ical/")
    loaded["/api/v1/events/{id}/ical/"]["GET"].validate_response(ical)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    removed = client.get("/api/v1/removed/", query_string={"since": since})
    loaded["/api/v1/removed/"]["GET"].validate_response(removed)
