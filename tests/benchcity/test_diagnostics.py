"""The load test's reference endpoints (``/api/v1/diagnostics/``): hidden unless enabled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.api_support import published_event, published_news, published_works
from tests.factories import CENTRE_LAT, CENTRE_LON, CategoryFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
CEILING = "/api/v1/diagnostics/ceiling/"
PLAIN = "/api/v1/diagnostics/plain-items/"


@pytest.fixture
def many_items():
    category, organization = CategoryFactory(), OrganizationFactory()
    for _ in range(8):
        for make in (published_news, published_works, published_event):
            make(category=category, organization=organization)


@pytest.mark.parametrize("path", [CEILING, PLAIN])
def test_diagnostics_are_hidden_unless_enabled(path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@override_settings(API_DIAGNOSTICS=True)
def test_ceiling_is_constant_and_runs_no_sql(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = APIClient().get(CEILING)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "items": [{"type": "news", "id": n} for n in range(3)],
    }


@override_settings(API_DIAGNOSTICS=True)
def test_plain_items_serializes_20_mixed_items_in_3_queries(many_items, django_assert_num_queries):
    with django_assert_num_queries(3):
        response = APIClient().get(PLAIN, {"lat": CENTRE_LAT, "lon": CENTRE_LON})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 20
    assert {row["type"] for row in results} == {"news", "works", "events"}
    assert all("distance_m" in row for row in results)
    listed = APIClient().get("/api/v1/works/", {"page_size": 1}).json()["results"][0]
    works_row = next(row for row in results if row["type"] == "works")
    assert set(works_row) - {"distance_m"} == set(listed)  # the list item fields
    assert "distance_m" not in APIClient().get(PLAIN).json()["results"][0]


@override_settings(API_DIAGNOSTICS=True)
@pytest.mark.parametrize("params", [{"lat": "91", "lon": "4"}, {"lat": "x"}, {"lon": "4.8"}])
def test_plain_items_rejects_bad_points(params):
    response = APIClient().get(PLAIN, params)
    assert response.status_code == 400
    assert "lat" in response.json()["fields"]


@override_settings(API_DIAGNOSTICS=True)
def test_diagnostics_are_not_in_the_schema():
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    assert not [path for path in schema["paths"] if "diagnostics" in path]


SETTINGS_PROBE = """
import json, sys, django
django.setup()
from django.apps import apps
from django.test import Client
print(json.dumps([apps.is_installed("bench.city"), Client().get(sys.argv[1]).status_code]))
"""


def probe_settings(module: str, path: str, tmp_path: Path) -> list:
    """Whether ``module`` installs the bench city, and the status of ``path`` (a new process)."""
    dropped = ("DJANGO_", "CELERY_", "CACHE_URL", "API_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        DJANGO_SETTINGS_MODULE=module,
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL=os.environ.get("TEST_DATABASE_URL", "postgis:///quartier"),
        QUARTIER_VAR_DIR=str(tmp_path / "var"),
        API_DIAGNOSTICS="1",  # on, so that only a missing route can answer 404
    )
    probe = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE, path],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(probe.stdout.splitlines()[-1])


def test_production_settings_neither_install_nor_route_the_bench_city(tmp_path):
    assert probe_settings("backend.settings", PLAIN, tmp_path) == [False, 404]


def test_bench_settings_install_and_route_the_bench_city(tmp_path):
    assert probe_settings("bench.settings", CEILING, tmp_path) == [True, 200]


def test_bench_settings_start_without_secrets_in_the_environment():
    """`make bench-city` on a fresh machine: DEBUG off, no key, no FCM file — the start-up
    checks pass on the bench-only key and the log backend; production settings still refuse."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SECRET_KEY", "PUSH_BACKEND", "FCM_CREDENTIALS_FILE", "DJANGO_DEBUG"}
    }
    env["DATABASE_URL"] = env.get("TEST_DATABASE_URL", "postgis:///quartier")

    def check(module: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": module},
            capture_output=True,
            text=True,
            timeout=120,
        )

    bench = check("bench.settings")
    assert bench.returncode == 0, bench.stderr
    production = check("backend.settings")
    assert production.returncode != 0
    assert "quartier.E001" in production.stderr and "quartier.E002" in production.stderr
