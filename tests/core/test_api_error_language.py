"""Issue 16, point 9: one language per response, no Python repr, stable error codes.

A table of the API's error cases (bad parameters, validation, 401, 404, 405, 413, 415,
throttling, 503) is replayed with ``Accept-Language: fr`` and ``en``: the ``error`` code is the
same in both and documented in docs/api.md, and every text of the body (``message`` and each
field message) is in the negotiated language and holds no Python repr (``['nope']``,
``'x'``, ``{…}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.settings import cache_settings
from testing.faultservers import RedisServer
from tests.api_support import key_client, published_news
from tests.factories import CENTRE_LAT, CENTRE_LON

pytestmark = pytest.mark.django_db

DOCS_API = Path(__file__).resolve().parents[2] / "docs" / "api.md"

#: The ``error`` codes the API answers with: the contract of docs/api.md ("Errors").
ERROR_CODES = {
    "invalid",
    "parse_error",
    "not_authenticated",
    "authentication_failed",
    "app_check_missing",
    "app_check_invalid",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "payload_too_large",
    "unsupported_media_type",
    "throttled",
    "server_error",
    "unavailable",
    "timeout",
    "database_unavailable",
    "cache_unavailable",
    "app_check_unavailable",
}

# Words that give a text's language away (the other language never uses them as words).
FRENCH_WORDS = {
    "le", "la", "les", "est", "des", "une", "ce", "cette", "champ", "doit", "pas", "du",
    "au", "aux", "requête", "valeur", "paramètres", "sont", "inconnu", "inconnue",
    "introuvable", "être", "avec", "pour", "dans", "ou", "et", "méthode", "autorisée",
    "corps", "trop", "secondes", "réessayez", "plus", "tard", "jeton", "clé",
}  # fmt: skip
ENGLISH_WORDS = {
    "the", "is", "are", "must", "not", "this", "field", "valid", "request", "was",
    "expected", "of", "and", "or", "with", "for", "be", "found", "unknown", "invalid",
    "value", "method", "allowed", "body", "too", "large", "parameters", "some", "seconds",
    "retry", "later", "token", "key", "credentials",
}  # fmt: skip
#: What Python's repr leaves in a text: a list or dict display, a quoted token ('x', u'x'),
#: an object or class repr, DRF's ErrorDetail.
REPR = re.compile(
    r"[\[\]{}]|(?<![\w\u2019])u?'[^'\s]*'|<\w+ object at|<class |ErrorDetail|Decimal\("
)


@dataclass
class Case:
    name: str
    status: int
    code: str
    call: Callable[[dict[str, Any]], Any]  # (language headers) -> response
    fields: set[str] = field(default_factory=set)


def _texts(body: dict[str, Any]) -> list[str]:
    texts = [body["message"]]
    for messages in body.get("fields", {}).values():
        texts += messages
    return texts


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[^\W\d_]+", text)}


@pytest.fixture
def content(city, mobility):
    return published_news(organization=city, category=mobility)


@pytest.fixture
def cases(city, mobility, content) -> list[Case]:
    anon = APIClient()
    key = key_client(city)
    bad_key = APIClient()
    bad_key.credentials(HTTP_AUTHORIZATION="Api-Key nope")
    point = {"type": "Point", "coordinates": [CENTRE_LON, CENTRE_LAT]}
    bowtie = {"type": "Polygon", "coordinates": [[[4.8, 45.7], [4.9, 45.8], [4.9, 45.7], [4.8, 45.8], [4.8, 45.7]]]}  # fmt: skip # noqa: E501
    body = {"title_fr": "Piscine fermée", "category": "mobilite", "geometry": point}
    return [
        Case("near out of range", 400, "invalid", lambda h: anon.get("/api/v1/news/?near=91,4.83", **h), {"near"}),  # noqa: E501
        Case("unknown category", 400, "invalid", lambda h: anon.get("/api/v1/news/?category=nope,autre", **h), {"category"}),  # noqa: E501
        Case("unknown choice", 400, "invalid", lambda h: anon.get("/api/v1/news/?urgency=nope", **h), {"urgency"}),  # noqa: E501
        Case("unknown parameter", 400, "invalid", lambda h: anon.get("/api/v1/news/?bogus=1", **h), {"bogus"}),  # noqa: E501
        Case("bad page size", 400, "invalid", lambda h: anon.get("/api/v1/news/?page_size=-3", **h), {"page_size"}),  # noqa: E501
        Case("unknown format", 400, "invalid", lambda h: anon.get("/api/v1/news/?format=xml", **h), {"format"}),  # noqa: E501
        Case("bbox reversed", 400, "invalid", lambda h: anon.get("/api/v1/works/?bbox=5,46,4,45", **h), {"bbox"}),  # noqa: E501
        Case("radius without near", 400, "invalid", lambda h: anon.get("/api/v1/news/?radius=300", **h), {"radius"}),  # noqa: E501
        Case("dates reversed", 400, "invalid", lambda h: anon.get("/api/v1/events/?starts_after=2030-01-02&starts_before=2030-01-01", **h), {"starts_before"}),  # noqa: E501
        Case("no such item", 404, "not_found", lambda h: anon.get("/api/v1/news/999999999/", **h)),
        Case("no such route", 404, "not_found", lambda h: anon.get("/api/v1/nope/", **h)),
        Case("method", 405, "method_not_allowed", lambda h: key.delete("/api/v1/news/", **h)),
        Case("no credentials", 401, "not_authenticated", lambda h: anon.post("/api/v1/news/", body, format="json", **h)),  # noqa: E501
        Case("bad key", 401, "authentication_failed", lambda h: bad_key.post("/api/v1/news/", body, format="json", **h)),  # noqa: E501
        Case("invalid body", 400, "invalid", lambda h: key.post("/api/v1/news/", {**body, "urgency": "nope", "geometry": bowtie, "title_fr": ""}, format="json", **h), {"urgency", "geometry", "title_fr"}),  # noqa: E501
        Case("not JSON", 400, "parse_error", lambda h: key.post("/api/v1/news/", b"{nope", content_type="application/json", **h)),  # noqa: E501
        Case("not JSON media", 415, "unsupported_media_type", lambda h: key.post("/api/v1/news/", b"x", content_type="text/plain", **h)),  # noqa: E501
        Case("device body", 400, "invalid", lambda h: anon.post("/api/v1/devices/", {"platform": "nope", "timezone": "Mars/Olympus"}, format="json", **h), {"platform", "timezone"}),  # noqa: E501
    ]  # fmt: skip


def _check(body: dict[str, Any], language: str) -> None:
    foreign = ENGLISH_WORDS if language == "fr" else FRENCH_WORDS
    for text in _texts(body):
        assert isinstance(text, str) and text, body
        assert not REPR.search(text), f"Python repr in {text!r}"
        assert not _words(text) & foreign, f"{text!r} is not in {language}: {body}"


def _replay(case: Case) -> dict[str, dict[str, Any]]:
    bodies = {}
    for language in ("fr", "en"):
        response = case.call({"HTTP_ACCEPT_LANGUAGE": language})
        assert response.status_code == case.status, (case.name, response.content)
        body = response.json()
        assert body["error"] == case.code, (case.name, body)
        assert set(body.get("fields", {})) >= case.fields, (case.name, body)
        _check(body, language)
        bodies[language] = body
    assert bodies["fr"]["message"] != bodies["en"]["message"], bodies
    return bodies


def test_every_error_answers_in_one_language_without_repr(cases):
    for case in cases:
        _replay(case)


def test_french_is_the_default_and_wording_is_french(content):
    body = APIClient().get("/api/v1/news/?category=nope,autre").json()
    assert body["message"] == "Certains paramètres sont invalides."
    assert body["fields"]["category"] == ["Inconnu dans « category » : nope, autre."]
    english = APIClient().get("/api/v1/news/?category=nope", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["message"] == "Some parameters are invalid."
    assert english["fields"]["category"] == ['Unknown in "category": nope.']


def test_an_invalid_geometry_is_explained_in_words(city, mobility):
    bowtie = [[[4.8, 45.7], [4.9, 45.8], [4.9, 45.7], [4.8, 45.8], [4.8, 45.7]]]
    body = {
        "title_fr": "Piscine fermée",
        "category": "mobilite",
        "geometry": {"type": "Polygon", "coordinates": bowtie},
    }
    client = key_client(city)
    fr = client.post("/api/v1/news/", body, format="json").json()["fields"]["geometry"]
    en = client.post("/api/v1/news/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert fr == ["Géométrie invalide : elle se recoupe (vers lon 4.85, lat 45.75)"]
    assert en.json()["fields"]["geometry"] == [
        "Invalid geometry: it intersects itself (near lon 4.85, lat 45.75)"
    ]


def test_throttled_answers_in_the_language(settings, content):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = APIClient()
    assert client.get("/api/v1/news/").status_code == 200
    bodies = {}
    for language in ("fr", "en"):
        response = client.get("/api/v1/news/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 429
        bodies[language] = response.json()
        assert bodies[language]["error"] == "throttled"
        _check(bodies[language], language)
    assert bodies["fr"]["message"] != bodies["en"]["message"]


@pytest.fixture
def redis_down(settings) -> Iterator[None]:
    server = RedisServer()
    server.start()
    config = cache_settings(server.url)
    config["OPTIONS"] = {**config["OPTIONS"], "RETRY_S": 5.0}  # type: ignore[dict-item]
    settings.CACHES = {"default": config}
    server.stop()
    yield


def test_an_outage_answers_in_the_language(redis_down):
    for language in ("fr", "en"):
        response = APIClient().post(
            "/api/v1/devices/",
            {"platform": "android"},
            format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 503
        body = response.json()
        assert body["error"] == "cache_unavailable"
        _check(body, language)


def test_error_codes_are_the_documented_ones():
    section = DOCS_API.read_text(encoding="utf-8").split("### Errors", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if re.match(r"\|\s*\d{3}\s*\|", line)]
    documented = {
        code for row in rows for code in re.findall(r"`([a-z_]+)`", re.sub(r"\(.*?\)", "", row[2]))
    }
    assert documented == ERROR_CODES
