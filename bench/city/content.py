"""Rows of the bench city's territory, publishers, venues and live content (for COPY).

Every function takes a seeded generator and returns ``Table`` objects whose rows match the
columns of the real tables (ids are explicit, so references need no round trip). Content is
what the lifecycle services would have produced for published items: ``title`` mirrors
``title_fr`` (modeltranslation), works' ``work_status`` follows their dates, events carry
their occurrences as ``event_save`` materialises them (``event_expand``) and ``last_end_at``.
Nothing is expired or over for at least a week after ``now``. Areas are not set here: the
build computes them in SQL from the geometries (``build.areas_compute``).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from apps.events.services import event_expand
from bench.city import layout, texts

DAY = 86_400


class SizedRows(Protocol):
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Sequence[Any]]: ...


@dataclass
class Table:
    """Rows for ``COPY table (columns) FROM STDIN`` (a list, or a sized lazy iterable)."""

    name: str
    columns: tuple[str, ...]
    rows: SizedRows


@dataclass
class Taxonomy:
    """Ids the other generators draw from."""

    district_ids: list[int]
    district_names: list[str]
    category_ids: dict[str, list[int]]  # content type → usable categories
    organization_ids: dict[str, list[int]]  # content type → publishers
    all_category_ids: list[int]
    all_organization_ids: list[int]
    streets: list[str]
    tables: list[Table] = field(default_factory=list)


@dataclass
class ContentRows:
    tables: list[Table]
    #: Per type: item ids and their publication times (epoch seconds), for the interaction log.
    ids: dict[str, np.ndarray]
    published: dict[str, np.ndarray]


def ts(epoch: float) -> str:
    return datetime.fromtimestamp(float(epoch), UTC).isoformat()


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def taxonomy(rng: np.random.Generator, now: float) -> Taxonomy:
    """The commune and its 20 districts, categories, organizations and street names."""
    stamp = ts(now - 400 * DAY)
    districts = layout.districts(rng)
    commune = (1, texts.CITY_SLUG, texts.CITY_NAME, "commune", texts.CITY_CODE)
    areas: list[tuple[Any, ...]] = [
        (*commune, layout.polygon_wkt(layout.commune_ring()), stamp, stamp, None)
    ]
    for index, district in enumerate(districts, start=2):
        areas.append(
            (
                index,
                district.slug,
                district.name,
                "district",
                district.code,
                layout.polygon_wkt(district.ring),
                stamp,
                stamp,
                1,
            )
        )
    area_columns = ("id", "slug", "name", "kind", "code", "geometry", "created_at", "updated_at")
    categories: list[tuple[Any, ...]] = []
    category_ids: dict[str, list[int]] = {"news": [], "works": [], "events": []}
    for index, (slug, fr, en, colour, icon, types) in enumerate(texts.CATEGORIES, start=1):
        categories.append((index, slug, fr, fr, en, colour, icon, index))
        for type_code in types.split():
            category_ids[type_code].append(index)
    organizations: list[tuple[Any, ...]] = []
    organization_ids: dict[str, list[int]] = {"news": [], "works": [], "events": []}
    for index, (slug, name, kind, types) in enumerate(texts.ORGANIZATIONS, start=1):
        website = f"https://{slug.removeprefix('bench-')}.bellerive.example"
        organizations.append((index, slug, name, kind, website, "", "", stamp, stamp))
        for type_code in types.split():
            organization_ids[type_code].append(index)
    streets = texts.street_names(random.Random(int(rng.integers(2**62))), 300)
    return Taxonomy(
        district_ids=[row[0] for row in areas[1:]],
        district_names=[d.name for d in districts],
        category_ids=category_ids,
        organization_ids=organization_ids,
        all_category_ids=[row[0] for row in categories],
        all_organization_ids=[row[0] for row in organizations],
        streets=streets,
        tables=[
            Table("core_area", (*area_columns, "parent_id"), areas),
            Table(
                "core_category",
                ("id", "slug", "name", "name_fr", "name_en", "colour", "icon", "position"),
                categories,
            ),
            Table(
                "core_organization",
                (
                    "id",
                    "slug",
                    "name",
                    "kind",
                    "website",
                    "email",
                    "phone",
                    "created_at",
                    "updated_at",
                ),
                organizations,
            ),
        ],
    )


def venues(rng: np.random.Generator, tax: Taxonomy, count: int) -> tuple[Table, np.ndarray]:
    """``count`` venues; returns the table and their (x, y) positions in metres."""
    pick = random.Random(int(rng.integers(2**62)))
    xy = layout.sample_xy(rng, count, centre_share=0.45)
    lon, lat = layout.to_lonlat(xy[:, 0], xy[:, 1])
    rows = []
    for index in range(count):
        street = tax.streets[index % len(tax.streets)]
        name = f"{pick.choice(texts.VENUE_KINDS)} {street.split(' ', 1)[1]}"
        address = f"{index + 1} {street}"
        accessibility = json.dumps(pick.sample(["motor", "visual", "hearing"], pick.randint(0, 2)))
        location = layout.point_wkt(lon[index], lat[index])
        rows.append(
            (index + 1, name, address, "69999", texts.CITY_NAME, location, "", accessibility)
        )
    columns = (
        "id",
        "name",
        "address",
        "postal_code",
        "city",
        "location",
        "website",
        "accessibility",
    )
    return Table("events_venue", columns, rows), xy


BASE_COLUMNS = (
    "id", "uuid", "title", "title_fr", "title_en", "summary", "summary_fr", "summary_en", "body",
    "body_fr", "body_en", "geometry", "status", "publish_at", "expires_at", "published_at",
    "urgency", "notify", "image", "image_alt", "image_alt_fr", "image_alt_en", "image_credit",
    "created_at", "updated_at", "category_id", "organization_id",
)  # fmt: skip


class _Items:
    """Shared draws of the three content types (texts, taxonomy, dates, urgency)."""

    def __init__(self, rng: np.random.Generator, tax: Taxonomy, now: float) -> None:
        self.rng = rng
        self.pick = random.Random(int(rng.integers(2**62)))
        self.tax = tax
        self.now = now

    def base(self, type_code: str, pk: int, geometry: str | None, *, published: float) -> tuple:
        pick, tax = self.pick, self.tax
        district = pick.choice(tax.district_names)
        place = pick.choice(tax.streets) if geometry else district
        text = texts.item_texts(
            pick, type_code, place=place, district=district, english=pick.random() < 0.3
        )
        urgency = pick.choices((0, 1, 2), weights=(85, 12, 3))[0]
        expires = None
        if type_code == "news" and pick.random() < 0.4:
            expires = ts(self.now + pick.uniform(7, 120) * DAY)
        created = published - pick.uniform(0, 2) * DAY
        updated = published + (self.now - published) * pick.random() * 0.3
        return (
            pk, _uuid(pick), text["title_fr"], text["title_fr"], text["title_en"],
            text["summary_fr"], text["summary_fr"], text["summary_en"], text["body_fr"],
            text["body_fr"], text["body_en"], geometry, "published", ts(published), expires,
            ts(published), urgency, urgency > 0 or pick.random() < 0.1, "", "", None, None, "",
            ts(created), ts(updated), pick.choice(tax.category_ids[type_code]),
            pick.choice(tax.organization_ids[type_code]),
        )  # fmt: skip

    def published_at(self, count: int, *, mean_days: float, max_days: float) -> np.ndarray:
        ages = np.minimum(self.rng.exponential(mean_days, size=count), max_days) * DAY
        return self.now - np.maximum(ages, 600.0)


def news(items: _Items, count: int) -> tuple[Table, np.ndarray, np.ndarray]:
    """News: two thirds located at a point, the rest city-wide (no geometry)."""
    xy = layout.sample_xy(items.rng, count)
    lon, lat = layout.to_lonlat(xy[:, 0], xy[:, 1])
    located = items.rng.random(count) < 0.65
    published = items.published_at(count, mean_days=40, max_days=180)
    rows = []
    for i in range(count):
        geometry = layout.point_wkt(lon[i], lat[i]) if located[i] else None
        rows.append(items.base("news", i + 1, geometry, published=published[i]))
    ids = np.arange(1, count + 1)
    return Table("news_news", BASE_COLUMNS, rows), ids, published


WORKS_COLUMNS = (
    *BASE_COLUMNS, "work_type", "work_status", "severity", "start_at", "end_at", "night_work",
    "road_state", "lanes_closed", "impacts_road", "impacts_sidewalk", "impacts_bike_lane",
    "impacts_parking", "impacts_bus", "road_names", "restrictions", "reduced_speed_limit_kph",
    "detour_text", "detour_text_fr", "detour_text_en", "detour_geometry", "contractor",
    "vehicle_impact", "direction", "lanes",
)  # fmt: skip
_WORK_TYPES = ("road_construction", "road_maintenance", "utility", "building", "green_space")
_ROAD_STATES = ("closed", "some_lanes_closed", "single_lane_alternating", "all_lanes_open")


def works(items: _Items, count: int) -> tuple[list[Table], np.ndarray, np.ndarray]:
    """Roadworks: mostly LineStrings along streets, some sites (polygons), a few points."""
    rng, pick, now = items.rng, items.pick, items.now
    xy = layout.sample_xy(rng, count, centre_share=0.4)
    shape = rng.choice(3, size=count, p=[0.85, 0.10, 0.05])
    published = items.published_at(count, mean_days=25, max_days=90)
    rows: list[tuple[Any, ...]] = []
    periods: list[tuple[Any, ...]] = []
    for i in range(count):
        pk = i + 1
        x, y = xy[i]
        if shape[i] == 0:
            geometry = layout.line_wkt(rng, x, y)
        elif shape[i] == 1:
            geometry = layout.site_wkt(rng, x, y)
        else:
            geometry = layout.point_wkt(*(float(v) for v in layout.to_lonlat(x, y)))
        start = min(published[i] + pick.uniform(0, 20) * DAY, now + pick.uniform(-60, 30) * DAY)
        end = max(start, now) + pick.uniform(7, 120) * DAY
        status = "active" if start <= now else "planned"
        state = pick.choice(_ROAD_STATES)
        night = pick.random() < 0.15
        street = pick.choice(items.tax.streets)
        impacts = [pick.random() < p for p in (0.7, 0.4, 0.2, 0.5, 0.15)]
        speed = 30 if state != "closed" and pick.random() < 0.2 else None
        restrictions = [{"type": "no-trucks"}] if speed else []
        detour = f"Déviation par la {pick.choice(items.tax.streets)}." if state == "closed" else ""
        rows.append(
            (
                *items.base("works", pk, geometry, published=published[i]),
                pick.choice(_WORK_TYPES), status, pick.choice(("minor", "moderate", "major")),
                ts(start), ts(end), night, state,
                pick.randint(1, 2) if state == "some_lanes_closed" else None, *impacts,
                json.dumps([street]), json.dumps(restrictions), speed, detour, detour or None,
                None, None, pick.choice(("", "Eiffage", "Colas", "Spie", "Vinci")),
                "", "undefined", "[]",
            )
        )  # fmt: skip
        if pick.random() < 0.35:
            day_start, day_end = ("21:00", "05:00") if night else ("08:00", "17:00")
            hours = (day_start, day_end) if pick.random() < 0.8 else (None, None)
            first = datetime.fromtimestamp(start, UTC).date()
            last = datetime.fromtimestamp(end, UTC).date()
            weekdays = "12345" if pick.random() < 0.7 else "1234567"
            periods.append((len(periods) + 1, pk, first, last, weekdays, *hours))
    period_columns = (
        "id", "works_id", "start_date", "end_date", "weekdays", "daily_start_time",
        "daily_end_time",
    )  # fmt: skip
    tables = [
        Table("works_works", WORKS_COLUMNS, rows),
        Table("works_worksperiod", period_columns, periods),
    ]
    return tables, np.arange(1, count + 1), published


EVENT_COLUMNS = (
    *BASE_COLUMNS, "start_at", "end_at", "has_start_time", "has_end_time", "rrule",
    "last_end_at", "event_status", "attendance_mode", "online_url", "is_free", "price_min",
    "price_info", "price_info_fr", "price_info_en", "ticket_url", "audience", "age_min",
    "age_max", "accessibility", "registration_required", "registration_url", "sequence",
    "venue_id",
)  # fmt: skip
_AUDIENCES = ("everyone", "everyone", "everyone", "children", "teens", "families", "adults")


def events(
    items: _Items, count: int, venue_table: Table
) -> tuple[list[Table], np.ndarray, np.ndarray]:
    """Events at venues (a few online), a quarter of them weekly, all of them still to come."""
    pick, now = items.pick, items.now
    published = items.published_at(count, mean_days=20, max_days=60)
    locations = {row[0]: row[5] for row in venue_table.rows}
    rows: list[tuple[Any, ...]] = []
    occurrences: list[tuple[Any, ...]] = []
    for i in range(count):
        pk = i + 1
        online = pick.random() < 0.03
        venue = None if online else pick.randint(1, len(locations))
        multi_day = pick.random() < 0.1
        day = now - now % DAY + pick.randint(-2, 90) * DAY
        start = day + pick.choice((8, 9, 12, 13, 16, 17, 18, 19)) * 3600 + pick.choice((0, 1800))
        length = pick.randint(2, 10) * DAY if multi_day else pick.choice((1, 1.5, 2, 3)) * 3600
        end = start + length
        if end <= now + 3600:  # under way: it ends later today (nothing is over at build)
            end = now + 3600 - now % 900 + pick.choice((1, 2, 3)) * 1800
        rrule = f"FREQ=WEEKLY;COUNT={pick.randint(2, 8)}" if pick.random() < 0.25 else ""
        spans = event_expand(
            start_at=datetime.fromtimestamp(start, UTC),
            end_at=datetime.fromtimestamp(end, UTC),
            rrule=rrule,
        )
        for index, (span_start, span_end) in enumerate(spans):
            origin = "main" if index == 0 else "rule"
            occurrences.append((len(occurrences) + 1, pk, span_start, span_end, origin))
        last_end = max(span_end for _start, span_end in spans)
        free = pick.random() < 0.6
        audience = pick.choice(_AUDIENCES)
        ages = (3, 10) if audience == "children" else (None, None)
        geometry = None if venue is None else locations[venue]
        rows.append(
            (
                *items.base("events", pk, geometry, published=published[i]),
                ts(start), ts(end), not multi_day, not multi_day, rrule, last_end.isoformat(),
                "scheduled", "online" if online else "offline",
                "https://live.bellerive.example/" if online else "", free,
                None if free else round(pick.uniform(3, 30), 2), "", None, None, "", audience,
                *ages, json.dumps(["motor"] if pick.random() < 0.5 else []),
                pick.random() < 0.1, "", 0, venue,
            )
        )  # fmt: skip
    tables = [
        Table("events_event", EVENT_COLUMNS, rows),
        Table(
            "events_eventoccurrence",
            ("id", "event_id", "start_at", "end_at", "origin"),
            occurrences,
        ),
    ]
    return tables, np.arange(1, count + 1), published


def content(rng: np.random.Generator, tax: Taxonomy, total: int, now: float) -> ContentRows:
    """``total`` live items: 25 % news, 35 % works, 40 % events, plus venues and dates."""
    n_news = total * 25 // 100
    n_works = total * 35 // 100
    n_events = total - n_news - n_works
    venue_table, _xy = venues(rng, tax, max(10, total // 40))
    items = _Items(rng, tax, now)
    news_table, news_ids, news_pub = news(items, n_news)
    works_tables, works_ids, works_pub = works(items, n_works)
    event_tables, event_ids, event_pub = events(items, n_events, venue_table)
    return ContentRows(
        tables=[venue_table, news_table, *works_tables, *event_tables],
        ids={"news": news_ids, "works": works_ids, "events": event_ids},
        published={"news": news_pub, "works": works_pub, "events": event_pub},
    )
