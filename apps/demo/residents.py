"""Demo residents: anonymous devices with places and follows, so that the demo's reach
previews, notifications and their statistics show what a live city would.

Deterministic (a seeded random per device) and idempotent: device ``n`` is found again by the
hash of a fixed bearer token, and its places and follows are made only when it is created.
Their push tokens are fake; in the demo the ``log`` push backend records what would be sent.
"""

from __future__ import annotations

import hashlib
import random
from datetime import time

from django.contrib.gis.geos import Point

from apps.core.geo import WGS84
from apps.core.models import Area, AreaKind
from apps.demo.context import SeedContext
from apps.residents.models import AreaFollow, CategoryFollow, Device, Place

DEMO_DEVICES = 150


def _point_in(area: Area, rng: random.Random) -> Point:
    """A random point inside the area (rejection sampling in its bounding box)."""
    xmin, ymin, xmax, ymax = area.geometry.extent
    for _ in range(200):
        candidate = Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax), srid=WGS84)
        if area.geometry.contains(candidate):
            return candidate
    return area.geometry.point_on_surface


def residents_seed(ctx: SeedContext, count: int = DEMO_DEVICES) -> None:
    districts = list(Area.objects.filter(kind=AreaKind.DISTRICT).order_by("slug"))
    categories = [ctx.categories[slug] for slug in sorted(ctx.categories)]
    if not districts or not categories:
        return
    for n in range(count):
        rng = random.Random(f"quartier-demo-device-{n}")
        token_hash = hashlib.sha256(f"quartier-demo-device-{n}".encode()).hexdigest()
        quiet = rng.random() < 0.3
        device, created = Device.objects.get_or_create(
            token_hash=token_hash,
            defaults={
                "platform": "ios" if rng.random() < 0.4 else "android",
                "push_token": f"demo-push-token-{n:04d}-{token_hash[:40]}",
                "push_token_active": True,
                "language": "en" if rng.random() < 0.1 else "fr",
                "quiet_hours_start": time(22) if quiet else None,
                "quiet_hours_end": time(7) if quiet else None,
                "min_urgency": 1 if rng.random() < 0.15 else 0,
            },
        )
        ctx.tally("devices", created)
        if not created:
            continue
        home = rng.choice(districts)
        Place.objects.create(
            device=device,
            label="home",
            location=_point_in(home, rng),
            radius_m=rng.choice([300, 500, 500, 1000]),
        )
        if rng.random() < 0.5:
            Place.objects.create(
                device=device,
                label="work",
                location=_point_in(rng.choice(districts), rng),
                radius_m=500,
            )
        for category in rng.sample(categories, rng.randint(1, min(3, len(categories)))):
            CategoryFollow.objects.create(device=device, category=category)
        if rng.random() < 0.2:
            AreaFollow.objects.create(device=device, area=home)
