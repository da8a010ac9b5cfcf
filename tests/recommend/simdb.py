"""Write a simulated city (``apps.recommend.offline.simulation``) and its log into the database.

Times are shifted by whole days so that the log ends at the last midnight (UTC); items,
districts, residents (devices that accept personalization, with places and follows) and their
interactions become rows, which ``train_recommender`` reads as it reads a real city's.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone

from apps.core.geo import WGS84
from apps.core.models import Area, AreaKind, Category, Organization, Status
from apps.events.models import Event, EventOccurrence
from apps.news.models import News
from apps.recommend.codes import Action, Context, ItemType
from apps.recommend.engine.candidates import EVENTS, NEWS, WORKS
from apps.recommend.engine.context import ACTIONS
from apps.recommend.engine.features import DAY_S
from apps.recommend.models import Interaction
from apps.recommend.offline.fitting import InteractionLog
from apps.recommend.offline.simulation import CATEGORIES, DISTRICTS, EPOCH_S, City, _district_bounds
from apps.residents.models import AreaFollow, CategoryFollow, Device, OrganizationFollow, Place
from apps.works.models import Works

SEVERITY = {0.3: "minor", 0.6: "moderate", 1.0: "major"}
LABELS = {"Domicile": "home", "Travail": "work", "École": "school"}


@dataclass
class SimInDb:
    devices: list[Device]  # by resident index
    item_ids: np.ndarray  # database id of each catalog row
    shift_s: float  # add to a simulation time to get a real one


def _when(seconds: float, shift: float) -> datetime | None:
    if np.isnan(seconds):
        return None
    return datetime.fromtimestamp(seconds + shift, UTC)


def write_city(city: City, log: InteractionLog) -> SimInDb:
    config = city.config
    # A whole number of days, so that the requests (one per resident and UTC day) are those of
    # the simulation whenever the test runs; the log then ends at the last midnight.
    log_end = EPOCH_S + (config.days - config.test_days) * DAY_S
    shift = np.floor((timezone.now().timestamp() - log_end) / DAY_S) * DAY_S
    categories = {
        k: Category.objects.create(slug=f"sim-{k}", name_fr=name, name_en=name)
        for k, (name, _words) in CATEGORIES.items()
    }
    organizations = {
        k: Organization.objects.create(slug=f"sim-org-{k}", name=f"Org {k}") for k in range(1, 6)
    }
    areas = {}
    for d, name in enumerate(DISTRICTS):
        lon, lat, w, h = _district_bounds(city.grid, d)
        ring = ((lon, lat), (lon + w, lat), (lon + w, lat + h), (lon, lat + h), (lon, lat))
        areas[d + 1] = Area.objects.create(
            slug=f"sim-district-{d}", name=name, kind=AreaKind.DISTRICT,
            geometry=MultiPolygon(Polygon(ring), srid=WGS84),
        )  # fmt: skip
    c = city.catalog
    rng = np.random.default_rng(config.seed)
    item_ids = np.zeros(len(c), dtype=np.int64)
    models = {NEWS: News, WORKS: Works, EVENTS: Event}
    for kind, model in models.items():
        rows = np.flatnonzero(c.item_type == kind)
        objects = []
        for row in rows:
            words = CATEGORIES[int(c.category[row])][1].split()
            text = " ".join(rng.choice(words, 4, replace=False))
            fields = {
                "title_fr": text.capitalize(),
                "summary_fr": text,
                "category": categories[int(c.category[row])],
                "organization": organizations[int(c.organization[row])],
                "geometry": None
                if np.isnan(c.lon[row])
                else Point(c.lon[row], c.lat[row], srid=WGS84),
                "status": Status.PUBLISHED,
                "publish_at": _when(c.published_s[row], shift),
                "published_at": _when(c.published_s[row], shift),
                "expires_at": _when(c.expires_s[row], shift),
                "urgency": int(c.urgency[row]),
            }
            if kind == WORKS:
                fields.update(
                    start_at=_when(c.start_s[row], shift),
                    end_at=_when(c.end_s[row], shift),
                    severity=SEVERITY[float(c.severity[row])],
                )
            elif kind == EVENTS:
                fields.update(
                    start_at=_when(c.start_s[row], shift),
                    end_at=_when(c.end_s[row], shift),
                    last_end_at=_when(c.end_s[row], shift),
                )
            objects.append(model(**fields))
        created = model.objects.bulk_create(objects)
        item_ids[rows] = [obj.pk for obj in created]
        if kind == EVENTS:
            EventOccurrence.objects.bulk_create(
                EventOccurrence(event=e, start_at=e.start_at, end_at=e.end_at, origin="main")
                for e in created
            )
        through = model.areas.through
        column = f"{model._meta.model_name}_id"
        through.objects.bulk_create(
            through(**{column: int(item_ids[row]), "area_id": areas[int(area)].pk})
            for row, area in zip(c.area_item, c.area_id, strict=True)
            if c.item_type[row] == kind
        )
    devices = Device.objects.bulk_create(
        Device(platform="android", token_hash=secrets.token_hex(32), personalization_consent=True)
        for _ in city.profiles
    )
    places, cats, area_follows, orgs = [], [], [], []
    for device, profile in zip(devices, city.profiles, strict=True):
        for place in profile.places:
            places.append(
                Place(device=device, label=LABELS[place.label], radius_m=int(place.radius_m),
                      location=Point(place.lon, place.lat, srid=WGS84))
            )  # fmt: skip
        cats += [
            CategoryFollow(device=device, category=categories[k])
            for k in profile.followed_categories
        ]
        area_follows += [AreaFollow(device=device, area=areas[k]) for k in profile.followed_areas]
        orgs += [
            OrganizationFollow(device=device, organization=organizations[k])
            for k in profile.followed_organizations
        ]
    Place.objects.bulk_create(places)
    CategoryFollow.objects.bulk_create(cats)
    AreaFollow.objects.bulk_create(area_follows)
    OrganizationFollow.objects.bulk_create(orgs)
    type_codes = {NEWS: ItemType.NEWS, WORKS: ItemType.WORKS, EVENTS: ItemType.EVENTS}
    Interaction.objects.bulk_create(
        (
            Interaction(
                device=devices[int(r)],
                event_id=uuid.uuid4(),
                item_type=type_codes[int(c.item_type[item])],
                item_id=int(item_ids[item]),
                action=Action.from_code(ACTIONS[int(action)]),
                context=Context.FEED,
                at=_when(float(at), shift),
            )
            for r, item, action, at in zip(
                log.resident, log.item, log.action, log.at_s, strict=True
            )
        ),
        batch_size=5000,
    )
    return SimInDb(devices=devices, item_ids=item_ids, shift_s=shift)
