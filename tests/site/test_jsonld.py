"""The JSON-LD of every page type, expanded with pyld and checked against schema.org.

Each page's ``<script type="application/ld+json">`` is expanded as linked data (pyld, with
schema.org's context served offline), then every node is checked against the vocabulary
(``tests/site/schemaorg.py``, from schema-dts): its type exists, each property belongs to the
type (or an ancestor), each value fits the property's range (a subtype of it, a data type,
or a member of the enumeration), and each type has the properties search engines require.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from pyld import jsonld

from apps.events.models import AttendanceMode, EventStatus
from apps.events.services import event_cancel, event_postpone
from apps.works.models import WorkStatus
from tests.api_support import published_event, published_news, published_works
from tests.factories import VenueFactory
from tests.site.schemaorg import DATA_TYPES, vocabulary

pytestmark = pytest.mark.django_db

SCHEMA = ("http://schema.org/", "https://schema.org/")
#: What Google's rich results and schema.org's own examples require of each type we emit.
REQUIRED = {
    "NewsArticle": {"headline", "datePublished", "dateModified", "author", "publisher", "url"},
    "Event": {"name", "startDate", "endDate", "location", "eventStatus", "eventAttendanceMode"},
    "SpecialAnnouncement": {"name", "text", "datePosted", "spatialCoverage", "about"},
    "Place": {"name"},
    "PostalAddress": {"streetAddress", "addressCountry"},
    "VirtualLocation": {"url"},
    "Offer": {"price", "priceCurrency", "url", "availability"},
    "Organization": {"name"},
    "GeoCoordinates": {"latitude", "longitude"},
    "ImageObject": {"url"},
}


def loader(url: str, options: Any = None) -> dict[str, Any]:
    """schema.org's context, offline: every term is a schema.org IRI (``@vocab``)."""
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": {"@vocab": "https://schema.org/"}},
    }


def json_ld(html: str) -> dict[str, Any]:
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts) == 1
    return json.loads(scripts[0])


def _local(iri: str) -> str:
    for prefix in SCHEMA:
        if iri.startswith(prefix):
            return iri[len(prefix) :]
    raise AssertionError(f"not a schema.org IRI: {iri}")


def check_node(node: dict[str, Any], problems: list[str], where: str = "") -> str:
    """Check one expanded node and its children; returns its type."""
    vocab = vocabulary()
    types = [_local(t) for t in node.get("@type", [])]
    assert len(types) == 1, f"{where}: one @type expected, got {types}"
    type_name = types[0]
    if not vocab.has_type(type_name):
        problems.append(f"{where}: unknown type {type_name}")
        return type_name
    properties = vocab.properties(type_name)
    present = set()
    for key, values in node.items():
        if key.startswith("@"):
            continue
        name = _local(key)
        present.add(name)
        if name not in properties:
            problems.append(f"{where}{type_name}.{name}: not a property of {type_name}")
            continue
        ranges = properties[name]
        for value in values:
            if "@value" in value:
                literal = value["@value"]
                enumerations = [r for r in ranges if r in vocab.enumerations]
                if isinstance(literal, str) and literal.startswith(SCHEMA) and enumerations:
                    member = _local(literal)
                    if not any(member in vocab.enumerations[e] for e in enumerations):
                        problems.append(f"{where}{type_name}.{name}: {member} not in {ranges}")
                elif not ranges & DATA_TYPES:
                    problems.append(f"{where}{type_name}.{name}: literal for {sorted(ranges)}")
            else:
                child = check_node(value, problems, f"{where}{type_name}.{name} → ")
                if not vocab.ancestors(child) & ranges:
                    problems.append(f"{where}{type_name}.{name}: {child} not in {sorted(ranges)}")
    missing = REQUIRED.get(type_name, set()) - present
    if missing:
        problems.append(f"{where}{type_name}: missing {sorted(missing)}")
    return type_name


def validate(client, item) -> tuple[str, dict[str, Any]]:
    html = client.get(item.share_path).content.decode()
    data = json_ld(html)
    expanded = jsonld.expand(data, {"documentLoader": loader})
    assert len(expanded) == 1
    problems: list[str] = []
    type_name = check_node(expanded[0], problems)
    assert problems == []
    return type_name, data


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://testserver"


def page(item):
    from apps.core.pages import item_page_url

    item.share_path = item_page_url(item).removeprefix("http://testserver")
    return item


def test_news_is_a_valid_news_article(client, centre):
    name, data = validate(client, page(published_news(title_fr="Piscine fermée")))
    assert name == "NewsArticle"
    assert data["headline"] == "Piscine fermée"
    assert data["contentLocation"]["geo"]["@type"] == "GeoCoordinates"
    assert data["image"]["url"].endswith("/map.png")


def test_city_wide_news_without_geometry_is_valid(client):
    name, data = validate(client, page(published_news(title_fr="Élections", geometry=None)))
    assert name == "NewsArticle" and "contentLocation" not in data


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        (AttendanceMode.OFFLINE, EventStatus.SCHEDULED),
        (AttendanceMode.ONLINE, EventStatus.SCHEDULED),
        (AttendanceMode.MIXED, EventStatus.RESCHEDULED),
    ],
)
def test_events_are_valid_events_with_location_and_offers(client, mode, status):
    venue = VenueFactory(name="Salle Rameau", address="29 rue de la Martinière", city="Lyonnay")
    event = published_event(
        title_fr="Récital",
        venue=venue,
        attendance_mode=mode,
        online_url="https://diffusion.ville.example/recital",
        event_status=status,
        is_free=False,
        price_min=Decimal("12.50"),
        ticket_url="https://billets.ville.example/recital",
        age_min=8,
    )
    name, data = validate(client, page(event))
    assert name == "Event"
    assert data["eventStatus"] == f"https://schema.org/Event{status.label and status.value.title()}"
    assert data["offers"]["price"] == "12.50" and data["offers"]["priceCurrency"] == "EUR"
    assert data["typicalAgeRange"] == "8-"
    locations = data["location"] if isinstance(data["location"], list) else [data["location"]]
    kinds = {location["@type"] for location in locations}
    expected = {
        AttendanceMode.OFFLINE: {"Place"},
        AttendanceMode.ONLINE: {"VirtualLocation"},
        AttendanceMode.MIXED: {"Place", "VirtualLocation"},
    }[mode]
    assert kinds == expected


def test_cancelled_and_postponed_events_say_so(client):
    cancelled = published_event(title_fr="Bal")
    event_cancel(event=cancelled)
    _name, data = validate(client, page(cancelled))
    assert data["eventStatus"] == "https://schema.org/EventCancelled"
    postponed = published_event(title_fr="Kermesse")
    event_postpone(event=postponed)
    _name, data = validate(client, page(postponed))
    assert data["eventStatus"] == "https://schema.org/EventPostponed"


def test_works_are_a_valid_special_announcement_about_an_event(client, centre):
    works = published_works(title_fr="Réfection rue Garibaldi", road_names=["rue Garibaldi"])
    name, data = validate(client, page(works))
    assert name == "SpecialAnnouncement"
    assert data["about"]["@type"] == "Event"
    assert data["about"]["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["spatialCoverage"]["geo"]["@type"] == "GeoShape"
    assert data["spatialCoverage"]["address"] == "rue Garibaldi"
    works.work_status = WorkStatus.CANCELLED
    works.save()
    from apps.core.api.response_cache import generation_bump

    generation_bump("works")
    _name, data = validate(client, page(works))
    assert data["about"]["eventStatus"] == "https://schema.org/EventCancelled"


def test_the_checker_catches_mistakes():
    """The check itself fails on a wrong property, range, enumeration member or a gap."""
    bad = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": "x",
        "startDate": "2026-01-01",
        "eventStatus": "https://schema.org/EventFinished",
        "headline": "not an Event property",
        "location": {"@type": "Offer", "price": "0"},
    }
    problems: list[str] = []
    check_node(jsonld.expand(bad, {"documentLoader": loader})[0], problems)
    text = "\n".join(problems)
    assert "Event.headline: not a property" in text
    assert "EventFinished not in" in text
    assert "Event.location: Offer not in" in text
    assert "Event: missing ['endDate', 'eventAttendanceMode']" in text
