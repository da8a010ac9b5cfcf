"""GET /api/v1/health/: 200 ok; 200 degraded without Redis (cache, broker); 503 without database."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/health/"


def test_health_is_ok_in_eager_mode():
    response = APIClient().get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "local",
        "broker": "eager",
    }
    assert response["Cache-Control"] == "no-store"


def test_health_reports_a_live_redis_broker(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    response = APIClient().get(URL)
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_health_is_degraded_when_the_broker_is_unreachable(settings):
    """Reads still work and pushes wait in the outbox: the instance stays in the balancer."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = APIClient().get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "local",
        "broker": "unavailable",
    }


def test_health_reports_a_live_redis_cache(settings):
    from backend.settings import cache_settings

    settings.CACHES = {"default": cache_settings("redis://127.0.0.1:6379/10")}
    response = APIClient().get(URL)
    assert response.status_code == 200
    assert response.json()["cache"] == "ok"


def test_health_is_503_when_the_database_is_unreachable():
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")  # a closed port
    try:
        response = APIClient().get(URL)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["status"] == "unavailable"
