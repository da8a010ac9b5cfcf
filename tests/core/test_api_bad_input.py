"""Bad input, parameter by parameter: always a 400 with the error shape, never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.events.models import Event
from apps.news.models import News
from apps.works.models import Works
from tests.api_support import key_client
from tests.factories import CENTRE_LAT, CENTRE_LON

pytestmark = pytest.mark.django_db

NEAR = f"{CENTRE_LAT},{CENTRE_LON}"

# (path, query parameters, the parameter the error names)
QUERY_CASES = [
    ("/api/v1/news/", {"near": "abc"}, "near"),
    ("/api/v1/news/", {"near": "91,4.8"}, "near"),
    ("/api/v1/news/", {"near": "-90.5,4.8"}, "near"),
    ("/api/v1/news/", {"near": "45.7,181"}, "near"),
    ("/api/v1/news/", {"near": "45.7"}, "near"),
    ("/api/v1/news/", {"near": "45.7,4.8,3"}, "near"),
    ("/api/v1/news/", {"near": "nan,4.8"}, "near"),
    ("/api/v1/news/", {"near": "45.7,inf"}, "near"),
    ("/api/v1/news/", {"near": NEAR, "radius": "0"}, "radius"),
    ("/api/v1/news/", {"near": NEAR, "radius": "1000000000"}, "radius"),
    ("/api/v1/news/", {"near": NEAR, "radius": "-5"}, "radius"),
    ("/api/v1/news/", {"near": NEAR, "radius": "abc"}, "radius"),
    ("/api/v1/news/", {"near": NEAR, "radius": "nan"}, "radius"),
    ("/api/v1/news/", {"radius": "500"}, "radius"),
    ("/api/v1/news/", {"bbox": "4.8,45.7,4.9"}, "bbox"),
    ("/api/v1/news/", {"bbox": "4.9,45.7,4.8,45.8"}, "bbox"),
    ("/api/v1/news/", {"bbox": "4.8,45.8,4.9,45.7"}, "bbox"),
    ("/api/v1/news/", {"bbox": "a,b,c,d"}, "bbox"),
    ("/api/v1/news/", {"bbox": "4.8,45.7,4.9,95"}, "bbox"),
    ("/api/v1/news/", {"bbox": "4.8,45.7,4.9,45.8,1"}, "bbox"),
    ("/api/v1/news/", {"category": "nope"}, "category"),
    ("/api/v1/news/", {"category": "bad slug!"}, "category"),
    ("/api/v1/news/", {"area": "atlantis"}, "area"),
    ("/api/v1/news/", {"organization": "ghost"}, "organization"),
    ("/api/v1/news/", {"ordering": "title"}, "ordering"),
    ("/api/v1/news/", {"ordering": "distance"}, "ordering"),
    ("/api/v1/news/", {"updated_since": "yesterday"}, "updated_since"),
    ("/api/v1/news/", {"updated_since": "2026-13-45T00:00:00Z"}, "updated_since"),
    ("/api/v1/news/", {"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),
    ("/api/v1/news/", {"updated_since": "9999-12-31T23:59:59-14:00"}, "updated_since"),
    ("/api/v1/news/", {"q": "x" * 201}, "q"),
    ("/api/v1/news/", {"q": "concert\x00"}, "q"),
    ("/api/v1/news/", {"format": "xml"}, "format"),
    ("/api/v1/works/", {"active_on": "someday"}, "active_on"),
    ("/api/v1/works/", {"active_on": "0001-01-01"}, "active_on"),
    ("/api/v1/works/", {"status": "done"}, "status"),
    ("/api/v1/works/", {"impact": "boats"}, "impact"),
    ("/api/v1/works/", {"ordering": "next_start_at"}, "ordering"),
    ("/api/v1/events/", {"starts_after": "soon"}, "starts_after"),
    (
        "/api/v1/events/",
        {"starts_after": "2026-06-02T00:00:00Z", "starts_before": "2026-06-01T00:00:00Z"},
        "starts_before",
    ),
    ("/api/v1/events/", {"free": "maybe"}, "free"),
    ("/api/v1/events/", {"audience": "aliens"}, "audience"),
    ("/api/v1/events/ical/", {"near": "91,4"}, "near"),
    ("/api/v1/events/ical/", {"category": "nope"}, "category"),
    ("/api/v1/removed/", {"since": "last week"}, "since"),
    ("/api/v1/removed/", {"type": "blogs"}, "type"),
    ("/api/v1/areas/", {"kind": "planet"}, "kind"),
]


@pytest.mark.parametrize(("path", "params", "field"), QUERY_CASES)
def test_bad_query_parameter_is_400_with_the_error_shape(path, params, field, mobility):
    response = APIClient().get(path, params)

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "invalid"
    assert isinstance(body["message"], str) and body["message"]
    assert field in body["fields"], body
    assert all(isinstance(m, str) for m in body["fields"][field])


def test_bad_geojson_request_still_gets_a_json_error():
    response = APIClient().get("/api/v1/news/", {"near": "abc", "format": "geojson"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["fields"]["near"]


@pytest.mark.parametrize(
    "path", ["/api/v1/news/abc/", "/api/v1/news/99999999999999999999/", "/api/v1/events/0/ical/"]
)
def test_bad_or_unknown_ids_are_404(path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


POINT = {"type": "Point", "coordinates": [CENTRE_LON, CENTRE_LAT]}
TOO_MANY = {
    "type": "LineString",
    "coordinates": [[CENTRE_LON + i * 1e-6, CENTRE_LAT] for i in range(5001)],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[4.83, 45.76], [4.84, 45.77], [4.84, 45.76], [4.83, 45.77], [4.83, 45.76]]],
}
NEWS = {"title_fr": "Titre", "category": "mobilite"}
WORKS = {**NEWS, "start_at": "2030-01-01T08:00:00Z", "end_at": "2030-01-10T08:00:00Z"}
EVENT = {**NEWS, "start_at": "2030-01-01T20:00:00Z", "end_at": "2030-01-01T22:00:00Z"}

# (type, body, the field the error names)
BODY_CASES = [
    ("news", {**NEWS, "geometry": {**POINT, "crs": {"type": "name"}}}, "geometry"),
    ("news", {**NEWS, "geometry": {"type": "Point", "coordinates": [4.8, 91]}}, "geometry"),
    ("news", {**NEWS, "geometry": {"type": "Point", "coordinates": [200, 45]}}, "geometry"),
    ("news", {**NEWS, "geometry": {"type": "Point", "coordinates": [4.8, 45.7, 170]}}, "geometry"),
    ("news", {**NEWS, "geometry": {"type": "Point", "coordinates": ["4.8", "45.7"]}}, "geometry"),
    ("news", {**NEWS, "geometry": {"type": "Circle", "coordinates": [4.8, 45.7]}}, "geometry"),
    ("news", {**NEWS, "geometry": {"type": "Point"}}, "geometry"),
    ("news", {**NEWS, "geometry": "POINT(4.8 45.7)"}, "geometry"),
    ("news", {**NEWS, "geometry": BOWTIE}, "geometry"),
    ("news", {**NEWS, "geometry": TOO_MANY}, "geometry"),
    (
        "news",
        {**NEWS, "geometry": {"type": "LineString", "coordinates": [[2.35, 48.85], [4.83, 45.76]]}},
        "geometry",
    ),
    (
        "news",
        {**NEWS, "geometry": {"type": "Polygon", "coordinates": [[[4.8, 45.7], [4.9, 45.7]]]}},
        "geometry",
    ),
    ("news", {**NEWS, "category": "nope"}, "category"),
    ("news", {"category": "mobilite"}, "title_fr"),
    ("news", {**NEWS, "title_fr": ""}, "title_fr"),
    ("news", {**NEWS, "title_fr": "x" * 201}, "title_fr"),
    ("news", {**NEWS, "urgency": "panic"}, "urgency"),
    ("news", {**NEWS, "status": "live"}, "status"),
    ("news", {**NEWS, "publish_at": "tomorrow"}, "publish_at"),
    ("news", {**NEWS, "publish_at": "9999-12-31T23:59:59-14:00"}, "publish_at"),
    (
        "news",
        {**NEWS, "publish_at": "2030-01-02T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"},
        "expires_at",
    ),
    ("news", {**NEWS, "links": [{"title_fr": "Lien", "url": "not a url"}]}, "links.0.url"),
    ("news", {**NEWS, "notify": "perhaps"}, "notify"),
    ("works", {**WORKS, "end_at": "2029-12-31T08:00:00Z"}, "end_at"),
    ("works", {**NEWS}, "start_at"),
    ("works", {**WORKS, "road_state": "flying"}, "road_state"),
    ("works", {**WORKS, "impacts": ["boats"]}, "impacts.0"),
    ("works", {**WORKS, "work_status": "active"}, "work_status"),
    ("works", {**WORKS, "lanes_closed": 10**12}, "lanes_closed"),
    ("works", {**WORKS, "restrictions": [{"type": "no-aliens"}]}, "restrictions.0.type"),
    # 1e400 (beyond a double) is refused by the JSON parser itself: test_api_hostile_input.py.
    (
        "works",
        {
            **WORKS,
            "periods": [{"start_date": "2030-01-01", "end_date": "2030-01-05", "weekdays": "8"}],
        },
        "periods.0.weekdays",
    ),
    (
        "works",
        {**WORKS, "periods": [{"start_date": "2030-01-05", "end_date": "2030-01-01"}]},
        "periods.0.end_date",
    ),
    ("works", {**WORKS, "detour_geometry": POINT}, "detour_geometry"),
    ("events", {**EVENT, "end_at": "2030-01-01T19:00:00Z"}, "end_at"),
    ("events", {**EVENT, "rrule": "FREQ=NEVER"}, "rrule"),
    ("events", {**EVENT, "rrule": "RRULE:FREQ=DAILY"}, "rrule"),
    ("events", {**EVENT, "rrule": "FREQ=DAILY;UNTIL=20300105"}, "rrule"),
    ("events", {**EVENT, "event_status": "maybe"}, "event_status"),
    ("events", {**EVENT, "audience": "aliens"}, "audience"),
    ("events", {**EVENT, "accessibility": ["x"]}, "accessibility.0"),
    ("events", {**EVENT, "is_free": True, "price_min": "5.00"}, "price_min"),
    ("events", {**EVENT, "age_min": 12, "age_max": 6}, "age_max"),
    (
        "events",
        {**EVENT, "venue": {"name": "Salle", "address": "1 rue", "location": BOWTIE}},
        "venue.location",
    ),
    (
        "events",
        {
            **EVENT,
            "extra_dates": [{"start_at": "2030-01-05T10:00:00Z", "end_at": "2030-01-05T09:00:00Z"}],
        },
        "extra_dates.0.end_at",
    ),
]
MODELS = {"news": News, "works": Works, "events": Event}


@pytest.mark.parametrize(("kind", "body", "field"), BODY_CASES)
def test_bad_body_is_400_and_creates_nothing(kind, body, field, city, mobility):
    client = key_client(city)
    if isinstance(body, str):
        response = client.post(f"/api/v1/{kind}/", body, content_type="application/json")
    else:
        response = client.post(f"/api/v1/{kind}/", body, format="json")

    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error"] == "invalid"
    assert field in payload["fields"], payload
    assert not MODELS[kind].objects.exists()


def test_malformed_json_is_400(city):
    response = key_client(city).post(
        "/api/v1/news/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"


def test_non_json_bodies_are_415(city):
    response = key_client(city).post("/api/v1/news/", data={"title_fr": "x"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
