"""OpenAPI 3 schema (valid, no warning, errors documented) and the offline docs UI."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = {
    "/api/v1/news/",
    "/api/v1/news/{id}/",
    "/api/v1/works/",
    "/api/v1/works/{id}/",
    "/api/v1/events/",
    "/api/v1/events/{id}/",
    "/api/v1/events/ical/",
    "/api/v1/events/{id}/ical/",
    "/api/v1/categories/",
    "/api/v1/organizations/",
    "/api/v1/areas/",
    "/api/v1/removed/",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_generation_has_no_warning(tmp_path):
    # --fail-on-warn turns any warning (unresolvable field, enum name collision…) into an error.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_schema_covers_the_contract(schema):
    assert set(schema["paths"]) >= CONTRACT_PATHS
    news = schema["paths"]["/api/v1/news/"]
    assert {"get", "post"} <= set(news)
    assert {"get", "patch", "delete"} <= set(schema["paths"]["/api/v1/news/{id}/"])
    names = {p["name"] for p in news["get"]["parameters"]}
    assert {"near", "radius", "bbox", "area", "category", "organization", "q"} <= names
    assert {"updated_since", "ordering", "format", "page", "page_size"} <= names
    works = {p["name"] for p in schema["paths"]["/api/v1/works/"]["get"]["parameters"]}
    assert {"active_on", "status", "impact"} <= works
    events = {p["name"] for p in schema["paths"]["/api/v1/events/"]["get"]["parameters"]}
    assert {"starts_after", "starts_before", "free", "audience"} <= events


def test_every_parameter_is_described_and_every_error_uses_the_error_shape(schema):
    error_ref = "#/components/schemas/Error"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/api/v1/") or path.endswith(("/schema/", "/docs/")):
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    continue
                assert parameter.get("description"), (path, method, parameter["name"])
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    schema_ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert schema_ref == error_ref, (path, method, code)


def test_write_operations_document_auth_errors_and_examples(schema):
    create = schema["paths"]["/api/v1/news/"]["post"]
    assert {"201", "400", "401", "403", "413", "429"} <= set(create["responses"])
    assert {"organizationApiKey": []} in create["security"]
    assert {} not in create["security"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    listing = schema["paths"]["/api/v1/news/"]["get"]
    assert {} in listing["security"]  # reads are public
    assert listing["responses"]["200"]["content"]["application/json"]["examples"]
    assert "application/geo+json" in listing["responses"]["200"]["content"]
    scheme = schema["components"]["securitySchemes"]["organizationApiKey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}


def test_docs_ui_is_served_offline():
    client = APIClient()
    page = client.get("/api/v1/docs/")
    html = page.content.decode()

    assert page.status_code == 200
    assert not re.search(r"https?://", html), "the docs page must not load anything remote"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body
