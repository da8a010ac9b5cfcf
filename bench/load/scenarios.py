"""The load test's scenarios: one endpoint each, measured alone (no Django, no locust import).

Each scenario is a request shape a resident's app makes, with randomness drawn from the bench
city's manifest (``manage.py bench_city``): points inside the city, items by popularity, the
clear tokens of real devices. ``bench/load/locustfile.py`` runs one of them at a time;
``bench/load_test.py`` runs them all and writes the table. The references come first: the
framework's floor (``ceiling``) and the plain list of 20 items that architecture.md §8 compares the
feed with (``plain_items``), both from the diagnostics endpoints.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    #: A GET path that answers 404 when the build lacks the endpoint (feed before it lands).
    probe: str | None = None
    #: Authenticates with a device token from the manifest.
    device: bool = False


SCENARIOS = (
    Scenario("ceiling", "diagnostics/ceiling (constant JSON, no SQL)"),
    Scenario("plain_items", "diagnostics/plain-items (20 items, plain) — reference"),
    Scenario("news_list", "news list, first page or a category (cacheable)"),
    Scenario("news_near", "news ?near= (random point, 1 km)"),
    Scenario("works_near", "works ?near= (random point, 1 km)"),
    Scenario("events_near", "events ?near= (random point, 1 km)"),
    Scenario("works_geojson", "works ?bbox= GeoJSON (random 1.5 km box)"),
    Scenario("detail", "details (news/works/events by popularity)"),
    Scenario(
        "feed_anonymous", "feed ?lat=&lon= anonymous", probe="/api/v1/feed/?lat={lat}&lon={lon}"
    ),
    Scenario(
        "feed_personal",
        "feed ?lat=&lon= with a device token",
        probe="/api/v1/feed/?lat={lat}&lon={lon}",
        device=True,
    ),
    Scenario("interactions", "POST interactions (batches of 10)", device=True),
    Scenario("register", "POST devices (registration)"),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
#: The scenario whose throughput the ratios are taken against (architecture.md §8).
REFERENCE = "plain_items"


class City:
    """Random draws from a bench city manifest."""

    def __init__(self, manifest: dict[str, Any], rng: random.Random) -> None:
        self.rng = rng
        self.bbox = manifest["bbox"]
        self.items = manifest["items"]
        self.devices = manifest["devices"]
        self.consenting = [d for d in self.devices if d["personalization"]] or self.devices
        self.categories = manifest.get("categories", [])
        # Zipf weights over each type's items (they are listed by popularity, most first).
        self.weights = {
            code: [1.0 / (rank + 1) for rank in range(len(ids))] for code, ids in self.items.items()
        }

    def point(self, margin: float = 0.01) -> tuple[float, float]:
        """A random ``(lat, lon)`` inside the city, six decimals as a phone sends them."""
        west, south, east, north = self.bbox
        lon = self.rng.uniform(west + margin, east - margin)
        lat = self.rng.uniform(south + margin, north - margin)
        return round(lat, 6), round(lon, 6)

    def box(self, size_deg: float = 0.015) -> str:
        lat, lon = self.point(margin=size_deg)
        return f"{lon:.6f},{lat:.6f},{lon + size_deg * 1.4:.6f},{lat + size_deg:.6f}"

    def item(self, type_code: str | None = None) -> tuple[str, int]:
        code = type_code or self.rng.choice(sorted(self.items))
        (pk,) = self.rng.choices(self.items[code], weights=self.weights[code])
        return code, pk

    def ip(self) -> str:
        """A resident's address (the proxy's ``X-Forwarded-For``): 65,000 of them."""
        n = self.rng.randrange(65_000)
        return f"10.{n // 256 % 256}.{n % 256}.{self.rng.randrange(1, 255)}"

    def token(self, *, consenting: bool = False) -> str:
        return self.rng.choice(self.consenting if consenting else self.devices)["token"]


def interactions_body(city: City, size: int = 10) -> dict[str, Any]:
    now = datetime.now(UTC)
    events = []
    for position in range(size):
        code, pk = city.item()
        events.append(
            {
                "type": code,
                "id": pk,
                "action": city.rng.choice(("impression", "impression", "open", "save", "like")),
                "at": (now - timedelta(seconds=city.rng.randrange(1, 600))).isoformat(),
                "context": "feed",
                "position": position,
                "event_id": str(uuid.UUID(int=city.rng.getrandbits(128), version=4)),
            }
        )
    return {"events": events}


def registration_body(city: City) -> dict[str, Any]:
    return {
        "platform": city.rng.choice(("android", "android", "ios")),
        "push_token": f"bench-load-{uuid.UUID(int=city.rng.getrandbits(128), version=4)}",
        "language": city.rng.choice(("fr", "fr", "fr", "en")),
    }
