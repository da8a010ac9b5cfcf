"""API conventions: the error shape, 413 for oversized bodies, JSON 404 under /api/."""

from __future__ import annotations

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from apps.core.api.errors import flatten_fields

pytestmark = pytest.mark.django_db


def test_oversized_api_body_is_413_with_the_error_shape(settings):
    body = "x" * (settings.API_MAX_BODY_BYTES + 1)
    response = APIClient().post("/api/v1/health/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_unknown_api_route_is_a_json_404():
    response = APIClient().get("/api/v1/does-not-exist/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not found."}


def test_wrong_method_uses_the_error_shape():
    response = APIClient().delete("/api/v1/health/")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_flatten_fields_gives_dotted_names():
    class Inner(serializers.Serializer):
        coordinates = serializers.ListField(child=serializers.FloatField())

    class Outer(serializers.Serializer):
        location = Inner()
        radius_m = serializers.IntegerField(min_value=100)

    serializer = Outer(data={"location": {"coordinates": ["a"]}, "radius_m": 10})
    assert not serializer.is_valid()

    fields = flatten_fields(serializer.errors)

    assert set(fields) == {"location.coordinates.0", "radius_m"}
    assert all(isinstance(m, str) for messages in fields.values() for m in messages)
