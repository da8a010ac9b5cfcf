"""OpenAPI: the resident routes are documented, secured by the bearer scheme, and fuzzed."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.django_db

RESIDENT_OPERATIONS = {
    ("/api/v1/devices/", "post"),
    ("/api/v1/me/", "get"),
    ("/api/v1/me/", "patch"),
    ("/api/v1/me/", "delete"),
    ("/api/v1/me/push-token/", "put"),
    ("/api/v1/me/transfer-code/", "post"),
    ("/api/v1/me/export/", "get"),
    ("/api/v1/me/places/", "get"),
    ("/api/v1/me/places/", "post"),
    ("/api/v1/me/places/{id}/", "get"),
    ("/api/v1/me/places/{id}/", "put"),
    ("/api/v1/me/places/{id}/", "patch"),
    ("/api/v1/me/places/{id}/", "delete"),
    ("/api/v1/me/interests/", "get"),
    ("/api/v1/me/interests/", "put"),
    ("/api/v1/me/saved/", "get"),
    ("/api/v1/me/saved/", "post"),
    ("/api/v1/me/saved/{type}/{id}/", "get"),
    ("/api/v1/me/saved/{type}/{id}/", "delete"),
    ("/api/v1/me/notifications/", "get"),
    ("/api/v1/interactions/", "post"),
}


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_resident_route_is_documented_with_unique_operation_ids(openapi):
    documented = {(path, method) for path, item in openapi["paths"].items() for method in item}
    assert documented >= RESIDENT_OPERATIONS
    ids = [op["operationId"] for item in openapi["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_the_bearer_scheme_secures_every_route_but_registration(openapi):
    assert openapi["components"]["securitySchemes"]["deviceToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The device token returned once by POST /api/v1/devices/.",
    }
    for path, method in RESIDENT_OPERATIONS:
        operation = openapi["paths"][path][method]
        if path == "/api/v1/devices/":
            assert operation.get("security", []) in ([], [{}])
        else:
            assert operation["security"] == [{"deviceToken": []}], (path, method)
            assert "401" in operation["responses"]


def test_schema_generation_is_clean_for_resident_routes(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    assert "Warning" not in capsys.readouterr().err


def _resident_api():
    from backend.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    return schema.include(path_regex=r"^/api/v1/(devices|me|interactions)/")


fuzzed = _resident_api()


@pytest.fixture
def keep_test_connection():
    """The WSGI app closes "old" connections around each request; in a test transaction that
    would close ours (Django's test client disconnects the same receivers)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@fuzzed.parametrize()
@hypothesis_settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_resident_routes_never_answer_with_a_server_error(
    case, settings, resident, keep_test_connection
):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "registration": "100000/hour"},
    }
    # Every check but "schema-valid data is accepted": valid-looking time zones, transfer codes
    # and item ids are checked against data the fuzzer cannot know.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {resident.token}"},
        excluded_checks=[positive_data_acceptance],
    )
