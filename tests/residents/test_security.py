"""Security of the resident API: scoping (access matrix), throttles, secrets at rest."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.residents.models import Place, SavedItem
from tests.factories import NewsFactory
from tests.residents.factories import PlaceFactory, published

pytestmark = pytest.mark.django_db

PLACE = {
    "label": "school",
    "name": "B's",
    "radius_m": 300,
    "location": {"type": "Point", "coordinates": [2.35, 48.85]},
}


def _snapshot(resident) -> dict:
    return {
        "me": resident.client.get("/api/v1/me/").json(),
        "places": resident.client.get("/api/v1/me/places/").json(),
        "interests": resident.client.get("/api/v1/me/interests/").json(),
        "saved": resident.client.get("/api/v1/me/saved/").json(),
    }


def test_access_matrix_b_can_reach_nothing_of_a(resident, other_resident):
    """B tries every A-owned id on every verb: always 404, and A's data is unchanged."""
    a, b = resident, other_resident
    news = published(NewsFactory())
    a_places = [PlaceFactory(device=a.device, name=f"A{i}") for i in range(2)]
    a.client.post("/api/v1/me/saved/", {"type": "news", "id": news.pk}, format="json")
    b_place = PlaceFactory(device=b.device, name="B")
    before = _snapshot(a)

    attempts = []
    for place in a_places:
        url = f"/api/v1/me/places/{place.pk}/"
        attempts += [
            ("get", url, None),
            ("put", url, PLACE),
            ("patch", url, {"radius_m": 5000}),
            ("delete", url, None),
        ]
    saved_url = f"/api/v1/me/saved/news/{news.pk}/"
    attempts += [("get", saved_url, None), ("delete", saved_url, None)]
    for method, url, body in attempts:
        response = getattr(b.client, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["error"] == "not_found"

    # B's own lists show only B's data.
    assert [p["id"] for p in b.client.get("/api/v1/me/places/").json()] == [b_place.pk]
    assert b.client.get("/api/v1/me/saved/").json()["count"] == 0
    assert _snapshot(a) == before
    assert Place.objects.filter(device=a.device).count() == 2
    assert SavedItem.objects.filter(device=a.device).count() == 1


def test_writes_through_me_never_touch_another_device(resident, other_resident):
    other_resident.client.patch("/api/v1/me/", {"language": "en"}, format="json")
    other_resident.client.post("/api/v1/me/places/", PLACE, format="json")
    other_resident.client.delete("/api/v1/me/")

    assert resident.client.get("/api/v1/me/").json()["language"] == "fr"
    assert resident.refresh() is not None


def test_registration_is_throttled_per_ip_with_retry_after(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "registration": "3/hour",
        },
    }
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    codes = [
        client.post("/api/v1/devices/", {"platform": "web"}, format="json").status_code
        for _ in range(4)
    ]

    assert codes == [201, 201, 201, 429]
    throttled = client.post(
        "/api/v1/devices/", {"platform": "web"}, format="json", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert throttled.status_code == 429  # a forged X-Forwarded-For does not reset the count
    assert throttled.json()["error"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 3600
    other_ip = APIClient(REMOTE_ADDR="203.0.113.8")
    assert other_ip.post("/api/v1/devices/", {"platform": "web"}, format="json").status_code == 201


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/me/", None),
        ("patch", "/api/v1/me/", {"language": "en"}),
        ("get", "/api/v1/me/places/", None),
        ("post", "/api/v1/me/places/", PLACE),
        ("get", "/api/v1/me/interests/", None),
        ("get", "/api/v1/me/saved/", None),
        ("get", "/api/v1/me/export/", None),
        ("post", "/api/v1/me/transfer-code/", None),
        ("put", "/api/v1/me/push-token/", {"push_token": "t" * 40}),
    ],
)
def test_resident_routes_are_throttled_per_device(
    settings, resident, other_resident, method, url, body
):
    _rates(settings, resident="2/min")

    codes = [
        getattr(resident.client, method)(url, body, format="json").status_code for _ in range(3)
    ]

    assert 429 not in codes[:2]
    assert codes[2] == 429
    response = getattr(resident.client, method)(url, body, format="json")
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"] == "throttled"
    # Another device behind the same IP keeps its own budget.
    assert other_resident.client.get("/api/v1/me/").status_code == 200


def test_interactions_are_throttled_per_device(settings, resident):
    _rates(settings, interactions="1/min")
    news = published(NewsFactory())
    body = {
        "events": [
            {
                "type": "news",
                "id": news.pk,
                "action": "impression",
                "at": timezone.now().isoformat(),
                "context": "feed",
                "event_id": str(uuid.uuid4()),
            }
        ]
    }

    first = resident.client.post("/api/v1/interactions/", body, format="json")
    second = resident.client.post("/api/v1/interactions/", body, format="json")

    assert (first.status_code, second.status_code) == (202, 429)
    assert int(second["Retry-After"]) > 0


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_name = c.table_name "
            "AND t.table_schema = c.table_schema "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
            "AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')"
        )
        return cursor.fetchall()


def test_tokens_and_transfer_codes_appear_nowhere_in_clear_in_the_database():
    client = APIClient()
    registered = client.post("/api/v1/devices/", {"platform": "android"}, format="json").json()
    token = registered["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v1/me/")
    code = client.post("/api/v1/me/transfer-code/").json()["code"]
    secrets = [token, token[3:], code, code.replace("-", ""), code.lower()]

    columns = _text_columns()
    assert ("residents_device", "token_hash") in columns
    hits = []
    with connection.cursor() as cursor:
        for table, column in columns:
            for secret in secrets:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE position(%s in "{column}"::text) > 0',
                    [secret],
                )
                if cursor.fetchone()[0]:
                    hits.append((table, column, secret))
    assert hits == []


@pytest.mark.parametrize(
    ("method", "url", "content", "content_type"),
    [
        ("post", "/api/v1/me/places/", "\x00\xff", "application/json"),
        ("post", "/api/v1/me/places/", "null", "application/json"),
        ("patch", "/api/v1/me/", "[]", "application/json"),
        ("put", "/api/v1/me/interests/", "1e999", "application/json"),
        ("post", "/api/v1/me/saved/", '{"type": "news", "id": 1e400}', "application/json"),
        ("post", "/api/v1/interactions/", '{"events": {"0": 1}}', "application/json"),
        ("post", "/api/v1/me/places/", "<xml/>", "application/xml"),
    ],
)
def test_junk_bodies_are_4xx_never_500(resident, method, url, content, content_type):
    response = resident.client.generic(method.upper(), url, content, content_type=content_type)

    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize(
    "url", ["/api/v1/me/?debug=1", "/api/v1/me/places/?all=true", "/api/v1/me/saved/?pagesize=5"]
)
def test_unknown_query_parameters_are_400(resident, url):
    response = resident.client.get(url)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
