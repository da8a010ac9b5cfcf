"""Rows of the bench city's residents: devices, places, interests and the interaction log.

Devices follow the rules of ``apps.residents``: bearer tokens are stored as their SHA-256
(``tokens.device_token_hash``), push tokens are unique, places are snapped to the 0.001° grid
(``rounding.snap_coordinates``) with radii of 100-5000 m, follows are unique per device, and
only devices that accepted personalization have interactions (the service's rule). The log has
Zipf-like popularity (a few items and a few residents make most of it), times spread over the
retention window after each item's publication, valid codes and unique event ids.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from apps.core.item_types import ItemType
from apps.recommend.codes import Action, Context
from apps.residents.models import PlaceLabel
from apps.residents.rounding import snap_coordinates
from apps.residents.tokens import DEVICE_TOKEN_PREFIX, device_token_hash
from bench.city import layout
from bench.city.content import DAY, Table, Taxonomy, ts

DEVICE_COLUMNS = (
    "id", "platform", "token_hash", "push_token", "push_token_active", "push_token_updated_at",
    "language", "timezone", "notifications_enabled", "quiet_hours_start", "quiet_hours_end",
    "max_pushes_per_day", "min_urgency", "personalization_consent", "personalization_consent_at",
    "remind_saved_events", "remind_works_near_home", "created_at", "last_seen_at",
)  # fmt: skip
_TIMEZONES = ("Europe/Paris",) * 96 + (
    "Europe/London",
    "Europe/Brussels",
    "America/Montreal",
    "Africa/Casablanca",
)
_QUIET = (("22:00", "07:00"), ("23:00", "06:30"), ("21:30", "08:00"), ("00:00", "06:00"))
_RADII = (100, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000)
_RADII_P = (0.04, 0.08, 0.12, 0.22, 0.12, 0.18, 0.08, 0.08, 0.05, 0.03)
_PLACE_NAMES = {"home": "Maison", "work": "Bureau", "school": "École", "other": "Club"}


def devices(
    rng: np.random.Generator, count: int, now: float
) -> tuple[Table, list[str], np.ndarray]:
    """Devices with varied platforms, languages, time zones and preferences; clear tokens."""
    pick = random.Random(int(rng.integers(2**62)))
    secrets = rng.bytes(32 * count)
    push_secrets = rng.bytes(96 * count)
    consent = rng.random(count) < 0.6
    created = now - rng.uniform(1, 400, size=count) * DAY
    seen = np.maximum(created, now - rng.exponential(12, size=count).clip(0, 90) * DAY)
    tokens, rows = [], []
    for i in range(count):
        secret = base64.urlsafe_b64encode(secrets[32 * i : 32 * i + 32]).decode().rstrip("=")
        token = DEVICE_TOKEN_PREFIX + secret  # the shape of tokens.device_token_new()
        tokens.append(token)
        platform = pick.choices(("android", "ios", "web"), weights=(62, 35, 3))[0]
        has_push = platform != "web" and pick.random() < 0.93
        body = base64.urlsafe_b64encode(push_secrets[96 * i : 96 * i + 96]).decode()
        push = f"bench{i + 1:07d}:APA91b{body}" if has_push else None
        quiet = pick.choice(_QUIET) if pick.random() < 0.35 else (None, None)
        agreed = bool(consent[i])
        rows.append(
            (
                i + 1, platform, device_token_hash(token), push,
                has_push and pick.random() < 0.97, ts(created[i]) if has_push else None,
                "en" if pick.random() < 0.12 else "fr", pick.choice(_TIMEZONES),
                pick.random() < 0.9, *quiet, pick.choice((3, 5, 5, 5, 10, 20)),
                pick.choices((0, 1, 2), weights=(70, 25, 5))[0], agreed,
                ts(created[i] + 60) if agreed else None, pick.random() < 0.85,
                pick.random() < 0.8, ts(created[i]), ts(seen[i]),
            )
        )  # fmt: skip
    return Table("residents_device", DEVICE_COLUMNS, rows), tokens, consent


def places(
    rng: np.random.Generator, count: int, now: float, sample: set[int]
) -> tuple[Table, dict[int, list[tuple[float, float]]]]:
    """1-3 places per device: home first, then work or school, then another place."""
    per_device = rng.choice((1, 2, 3), size=count, p=(0.5, 0.35, 0.15))
    total = int(per_device.sum())
    homes = layout.sample_xy(rng, total, centre_share=0.45)
    works = layout.sample_xy(rng, total, centre_share=0.6)
    radii = rng.choice(_RADII, size=total, p=_RADII_P)
    named = rng.random(total) < 0.4
    school = rng.random(total) < 0.25
    rows: list[tuple[Any, ...]] = []
    kept: dict[int, list[tuple[float, float]]] = {}
    row = 0
    for device in range(1, count + 1):
        for slot in range(int(per_device[device - 1])):
            label = ("home", "school" if school[row] else "work", "other")[slot]
            x, y = (homes if slot != 1 else works)[row]
            lon, lat = (float(v) for v in layout.to_lonlat(x, y))
            lon, lat = snap_coordinates(lon, lat)
            stamp = ts(now - (row % 300) * DAY / 3)
            name = _PLACE_NAMES[label] if named[row] else ""
            location = f"SRID=4326;POINT({lon:.3f} {lat:.3f})"
            rows.append((row + 1, device, label, name, location, int(radii[row]), stamp, stamp))
            if device in sample:
                kept.setdefault(device, []).append((lon, lat))
            row += 1
    assert set(PlaceLabel.values) >= {"home", "work", "school", "other"}
    columns = (
        "id",
        "device_id",
        "label",
        "name",
        "location",
        "radius_m",
        "created_at",
        "updated_at",
    )
    return Table("residents_place", columns, rows), kept


def follows(rng: np.random.Generator, tax: Taxonomy, count: int, now: float) -> list[Table]:
    """2-6 interests per device among categories (weighted), districts and publishers."""
    pick = random.Random(int(rng.integers(2**62)))
    categories = tax.all_category_ids
    weights = [3.0 if i in (1, 6, 7) else 1.0 for i in categories]  # works, culture, sport
    kinds: dict[str, list[tuple]] = {"category": [], "area": [], "organization": []}
    stamp = ts(now - 30 * DAY)
    for device in range(1, count + 1):
        wanted = pick.randint(2, 6)
        chosen: dict[str, set[int]] = {"category": set(), "area": set(), "organization": set()}
        while sum(len(v) for v in chosen.values()) < wanted:
            kind = pick.choices(("category", "area", "organization"), weights=(55, 30, 15))[0]
            if kind == "category":
                chosen[kind].add(pick.choices(categories, weights=weights)[0])
            elif kind == "area":
                chosen[kind].add(pick.choice(tax.district_ids))
            else:
                chosen[kind].add(pick.choice(tax.all_organization_ids))
        for kind, ids in chosen.items():
            for target in sorted(ids):
                kinds[kind].append((len(kinds[kind]) + 1, device, target, stamp))
    return [
        Table(f"residents_{kind}follow", ("id", "device_id", f"{kind}_id", "created_at"), rows)
        for kind, rows in kinds.items()
    ]


_ACTIONS = (Action.IMPRESSION, Action.OPEN, Action.SAVE, Action.UNSAVE, Action.LIKE, Action.SHARE,
            Action.DISMISS)  # fmt: skip
_ACTIONS_P = (0.55, 0.25, 0.05, 0.01, 0.06, 0.02, 0.06)
_CONTEXTS = (Context.FEED, Context.MAP, Context.SEARCH, Context.PUSH, Context.DETAIL)
_CONTEXTS_P = (0.6, 0.15, 0.08, 0.07, 0.10)
INTERACTION_COLUMNS = (
    "id", "device_id", "event_id", "item_type", "item_id", "action", "context", "position", "at",
)  # fmt: skip


def zipf_weights(n: int, s: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return weights / weights.sum()


def interactions(
    rng: np.random.Generator,
    count: int,
    *,
    consenting: np.ndarray,
    items: dict[str, np.ndarray],
    published: dict[str, np.ndarray],
    now: float,
    retention_days: int,
) -> tuple[Table, dict[str, list[int]]]:
    """The log, in time order; also returns each type's item ids by popularity (most first)."""
    type_codes = np.concatenate(
        [np.full(len(ids), int(ItemType.from_code(code))) for code, ids in items.items()]
    )
    item_ids = np.concatenate(list(items.values()))
    item_pub = np.concatenate(list(published.values()))
    rank_to_item = rng.permutation(len(item_ids))  # rank 0 = the most popular item
    item_index = rank_to_item[
        rng.choice(len(item_ids), size=count, p=zipf_weights(len(item_ids), 1.0))
    ]
    device_ranked = rng.permutation(consenting)
    device = device_ranked[
        rng.choice(len(device_ranked), size=count, p=zipf_weights(len(device_ranked), 0.7))
    ]
    start = np.maximum(item_pub[item_index], now - (retention_days - 1) * DAY)
    at = start + (now - 60 - start) * rng.random(count)
    order = np.argsort(at, kind="stable")
    action = np.array([int(a) for a in _ACTIONS])[
        rng.choice(len(_ACTIONS), size=count, p=_ACTIONS_P)
    ]
    context = np.array([int(c) for c in _CONTEXTS])[
        rng.choice(len(_CONTEXTS), size=count, p=_CONTEXTS_P)
    ]
    position = np.minimum(rng.geometric(0.15, size=count) - 1, 200)
    listed = (context == int(Context.FEED)) | (context == int(Context.SEARCH))
    uuids = np.frombuffer(rng.bytes(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    uuids[:, 6] = (uuids[:, 6] & 0x0F) | 0x40  # version 4
    uuids[:, 8] = (uuids[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    stamps = np.datetime_as_string(at.astype("datetime64[s]"), timezone="UTC")

    def rows() -> Iterator[tuple]:
        for row, k in enumerate(order, start=1):
            yield (
                row, int(device[k]), uuids[k].tobytes().hex(), int(type_codes[item_index[k]]),
                int(item_ids[item_index[k]]), int(action[k]), int(context[k]),
                int(position[k]) if listed[k] else None, str(stamps[k]),
            )  # fmt: skip

    popular: dict[str, list[int]] = {code: [] for code in items}
    codes = {int(ItemType.from_code(code)): code for code in items}
    for index in rank_to_item:
        popular[codes[int(type_codes[index])]].append(int(item_ids[index]))
    return Table("recommend_interaction", INTERACTION_COLUMNS, _Lazy(rows, count)), popular


class _Lazy:
    """A sized row sequence generated on iteration (the log does not sit in memory as tuples)."""

    def __init__(self, factory: Callable[[], Iterator[tuple]], length: int) -> None:
        self.factory, self.length = factory, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[tuple]:
        return self.factory()
