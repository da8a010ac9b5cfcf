"""The demo's data files, natural keys, and the context shared by the seeding steps."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import GEOSGeometry
from django.utils import timezone

from apps.core.models import Category, Organization
from apps.demo.city import CityMap
from apps.demo.text import with_dates
from apps.events.models import Venue

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Namespace of the demo items' ``uuid5`` natural keys: ``uuid5(DEMO_NAMESPACE, "news:<key>")``.
DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://quartier.example/demo-city")


@cache
def demo_data(name: str) -> Any:
    """One data file of the demo (``city``, ``news``, ``works``, ``events``), parsed."""
    with (DATA_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        return json.load(handle)


@cache
def demo_map() -> CityMap:
    return CityMap(demo_data("city"))


def demo_uuid(type_code: str, key: str) -> uuid.UUID:
    """The stable identity of a demo item, whatever its title or dates on a given day."""
    return uuid.uuid5(DEMO_NAMESPACE, f"{type_code}:{key}")


def demo_uuids() -> dict[str, list[uuid.UUID]]:
    """The uuids of every demo item, by type code."""
    return {
        "news": [demo_uuid("news", entry["key"]) for entry in demo_data("news")],
        "works": [demo_uuid("works", entry["key"]) for entry in demo_data("works")["items"]],
        "events": [demo_uuid("events", entry["key"]) for entry in demo_data("events")],
    }


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    organization: str  # the organization's name, or "" for the superuser
    superuser: bool
    totp_key: str = ""  # base32 key of the demo authenticator (the admin's second factor)
    role: str = ""  # the membership's role code (``Membership.Role``), "" for the superuser


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    logins: list[Login] = field(default_factory=list)


@dataclass
class SeedContext:
    """Everything the content builders need: the clock, the map and the reference rows."""

    now: datetime
    city: CityMap
    report: SeedReport
    organizations: dict[str, Organization] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    editors: dict[str, Any] = field(default_factory=dict)  # organization slug → user
    venues: dict[str, Venue] = field(default_factory=dict)

    def tally(self, kind: str, created: bool) -> None:
        (self.report.created if created else self.report.existing)[kind] += 1

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, offset: int, hhmm: str) -> datetime:
        """The aware local datetime ``offset`` days from today at ``HH:MM``."""
        return timezone.make_aware(datetime.combine(self.day(offset), time.fromisoformat(hhmm)))

    def text(self, value: str | None) -> str:
        return with_dates(value or "", self.today)

    def where(self, spec: dict[str, Any] | None) -> GEOSGeometry | None:
        """A content geometry from its data: venue, street point, street section, zone, district."""
        if not spec:
            return None
        if "venue" in spec:
            return self.venues[spec["venue"]].location
        if "street" in spec:
            return self.city.street_point(*spec["street"])
        if "line" in spec:
            return self.city.street_section(*spec["line"])
        if "zone" in spec:
            return self.city.zone(*spec["zone"])
        if "district" in spec:
            # Slightly inside the district, so that it does not touch its neighbours.
            return self.city.district(spec["district"]).geometry.buffer(-0.0004)
        raise ValueError(f"unknown location {spec!r}")
