"""The push simulator (issue 18, item 5): "with these settings you would have received these N
pushes last week", for one device, read-only.

It replays the notifications of the last ``WINDOW`` (publications, updates and reminders about
an item; not staff tests, not drills, not digests — digests are what the replay produces) against
candidate settings (``Settings``: places, follows, urgency, budget, quiet hours, digest day),
in two steps:

1. **Who is targeted** — SQL, one query per item type: the rules of ``audience``, evaluated for
   the candidate places and follows instead of stored rows. A place reaches an item when the
   item lies within its radius (``DWithinM``, the geodesic ``ST_DWithin`` that the stored
   places' test ``Place.objects.reaching`` answers exactly); a followed area must be one the
   item touches; a category must be followed unless the push is at least important; its urgency
   at least ``min_urgency``. An update also goes to a device that had received an earlier push
   about the item (before the window: its real deliveries; within it: the replay's). A reminder
   of a saved event goes to a device that saved the event (its saved items as they are now) and
   wants such reminders; a roadwork reminder to a home within ``NEAR_HOME_M`` (or its radius).
2. **What the policy makes of it** — pure Python, ``apps.notifications.replay``: in time
   order, ``policy.before_send`` holds a push in the quiet hours (the device's zone) until they
   end, ``policy.budget`` lets it go or holds it back (daily cap, daily important limit, weekly
   information budget, counting the real pushes received earlier in the same local day or week
   before the window), and what is held back goes into the daily digest (``timing.digest_at``)
   or the weekly one, the digest itself being a push held by the quiet hours too.

Items are read as they are now (geometry, category, areas; a deleted item is not replayed) and
a push whose item had expired by the time it would go is skipped, as the pipeline does. Nothing
is written: not the settings, not a delivery.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from apps.core.geo import DWithinM, point
from apps.core.models import Urgency
from apps.core.registry import content_models
from apps.notifications import policy, timing
from apps.notifications.audience import NEAR_HOME_M
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.notifications.replay import (
    DIGEST,
    PUSH,
    CandidatePlace,
    Outcome,
    Replayed,
    Settings,
    replay,
)
from apps.residents.models import AreaFollow, CategoryFollow, Device, Place, SavedItem
from apps.residents.rounding import snap_coordinates

#: The replay covers this much time before the request.
WINDOW = timedelta(days=7)
#: At most this many notifications are replayed (the most recent ones).
MAX_NOTIFICATIONS = 1000
#: The kinds replayed: those the register lists (digests are the replay's own result).
REPLAYED_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)


#: The preference fields ``Settings`` takes from the device (or from the candidate values).
PREFERENCES = (
    "notifications_enabled",
    "min_urgency",
    "timezone",
    "quiet_hours_start",
    "quiet_hours_end",
    "max_pushes_per_day",
    "info_per_week",
    "important_per_day",
    "weekly_digest_day",
    "weekly_digest_time",
    "remind_saved_events",
    "remind_works_near_home",
)


def device_settings(
    device: Device,
    *,
    preferences: dict[str, Any] | None = None,
    places: Sequence[dict[str, Any]] | None = None,
    category_ids: Iterable[int] | None = None,
    area_ids: Iterable[int] | None = None,
) -> Settings:
    """The device's settings, each part replaced by the candidate one when given (validated by
    the ``/me/`` serializers). Candidate places are snapped to the grid stored places are."""
    values = {name: getattr(device, name) for name in PREFERENCES}
    values.update(preferences or {})
    if places is None:
        rows = Place.objects.filter(device=device).order_by("id")
        chosen = tuple(
            CandidatePlace(p.label, p.location.x, p.location.y, p.radius_m) for p in rows
        )
    else:
        chosen = tuple(
            CandidatePlace(
                p["label"], *snap_coordinates(p["location"].x, p["location"].y), p["radius_m"]
            )
            for p in places
        )
    if category_ids is None:
        category_ids = CategoryFollow.objects.filter(device=device).values_list(
            "category_id", flat=True
        )
    if area_ids is None:
        area_ids = AreaFollow.objects.filter(device=device).values_list("area_id", flat=True)
    return Settings(
        places=chosen,
        category_ids=frozenset(category_ids),
        area_ids=frozenset(area_ids),
        **values,
    )


@dataclass
class Simulation:
    since: datetime
    until: datetime
    considered: int
    truncated: bool
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def digests(self) -> list[tuple[datetime, int]]:
        """``(send time, items)`` of each digest the replay made."""
        by_time: dict[datetime, int] = defaultdict(int)
        for o in self.outcomes:
            if o.delivered_as == DIGEST:
                by_time[o.sent_at] += 1
        return sorted(by_time.items())

    @property
    def pushes(self) -> int:
        """Pushes received by ``until``: those about an item, and the digests."""
        items = sum(1 for o in self.outcomes if o.delivered_as == PUSH and o.sent_at <= self.until)
        return items + sum(1 for at, _n in self.digests if at <= self.until)


def window_notifications(*, now: datetime) -> tuple[list[Notification], int, bool]:
    """The notifications replayed (oldest first), how many the window holds, and whether
    some were left out (more than ``MAX_NOTIFICATIONS``)."""
    rows = Notification.objects.filter(
        kind__in=REPLAYED_KINDS,
        exercise=False,
        item_id__isnull=False,
        created_at__gte=now - WINDOW,
        created_at__lte=now,
    ).exclude(item_type="")
    newest = list(
        rows.order_by("-created_at", "-id").only(
            "id", "kind", "item_type", "item_id", "urgency", "texts", "created_at"
        )[: MAX_NOTIFICATIONS + 1]
    )
    truncated = len(newest) > MAX_NOTIFICATIONS
    newest = newest[:MAX_NOTIFICATIONS]
    newest.reverse()
    return newest, len(newest), truncated


def _reaches(places: Iterable[CandidatePlace], *, home_only: bool = False) -> Any:
    """Whether a candidate place reaches the item: within its radius (for a roadwork reminder: a
    home within ``NEAR_HOME_M`` or its radius, as ``audience.home_audience``)."""
    tests = [
        Q(
            DWithinM(
                "geometry",
                point(p.lon, p.lat),
                Value(min(p.radius_m, NEAR_HOME_M) if home_only else p.radius_m),
            )
        )
        for p in places
        if not home_only or p.label == "home"
    ]
    if not tests:
        return Value(False)
    reach = tests[0]
    for test in tests[1:]:
        reach |= test
    return ExpressionWrapper(reach, output_field=BooleanField())


def _targeting(
    model: Any, ids: set[int], settings: Settings, saved: set[int]
) -> dict[int, dict[str, Any]]:
    """Per item of ``ids``: its category, expiry, whether the candidate places reach it, a
    followed area it touches, a home near it (one query)."""
    relation: Any = model._meta.get_field("areas")
    through: Any = relation.remote_field.through
    touches = through.objects.filter(
        **{f"{relation.m2m_field_name()}_id": OuterRef("pk")},
        area_id__in=list(settings.area_ids),
    )
    rows: QuerySet[Any] = model.objects.filter(pk__in=ids).annotate(
        city_wide=ExpressionWrapper(Q(geometry__isnull=True), output_field=BooleanField()),
        reached=_reaches(settings.places),
        home=_reaches(settings.places, home_only=True),
        area=Exists(touches) if settings.area_ids else Value(False),
    )
    return {
        r["pk"]: {**r, "saved": r["pk"] in saved}
        for r in rows.values(
            "pk", "category_id", "expires_at", "city_wide", "reached", "home", "area"
        )
    }


def _is_targeted(n: Notification, item: dict[str, Any], settings: Settings) -> bool:
    """The rules of ``audience`` for the candidate settings (``audience``, ``saved_audience``,
    ``home_audience``); an update's earlier pushes are added by the replay."""
    if n.kind == Kind.REMINDER:
        if n.item_type == "events":
            return settings.remind_saved_events and item["saved"]
        return settings.remind_works_near_home and bool(item["home"]) and not item["city_wide"]
    if n.urgency < settings.min_urgency:
        return False
    where = bool(item["city_wide"] or item["reached"] or item["area"])
    what = n.urgency >= Urgency.IMPORTANT or item["category_id"] in settings.category_ids
    return where and what


def replayed_notifications(
    device: Device, settings: Settings, notifications: Sequence[Notification]
) -> list[Replayed]:
    """The notifications that concern the device (or are updates of an item it may have been
    pushed about), oldest first."""
    by_type: dict[str, set[int]] = defaultdict(set)
    for n in notifications:
        by_type[n.item_type].add(int(n.item_id or 0))
    saved = {
        (t, i)
        for t, i in SavedItem.objects.filter(device=device).values_list("item_type", "item_id")
    }
    models = content_models()
    items: dict[tuple[str, int], dict[str, Any]] = {}
    for code, ids in by_type.items():
        model = models.get(code)
        if model is None:
            continue
        mine = {i for t, i in saved if t == code}
        for pk, row in _targeting(model, ids, settings, mine).items():
            items[(code, pk)] = row
    result = []
    for n in notifications:
        item = items.get((n.item_type, int(n.item_id or 0)))
        if item is None:
            continue
        targeted = _is_targeted(n, item, settings)
        if not targeted and n.kind != Kind.UPDATE:
            continue
        result.append(
            Replayed(
                notification_id=n.pk,
                kind=n.kind,
                item_type=n.item_type,
                item_id=int(n.item_id or 0),
                urgency=n.urgency,
                title={lang: n.text_for(lang)["title"] for lang in ("fr", "en")},
                created_at=n.created_at,
                expires_at=item["expires_at"],
                targeted=targeted,
            )
        )
    return result


def pushed_before(
    device: Device, *, since: datetime, tz: str
) -> tuple[set[tuple[str, int]], list[Any]]:
    """What the device really received before ``since``: the items it was pushed about (an
    update goes to them), and the ``(sent_at, urgency)`` of its capped pushes in the local week
    before ``since`` (they count against its day and week)."""
    sent = Delivery.objects.filter(
        device=device, status=DeliveryStatus.SENT, sent_at__lt=since
    ).exclude(notification__item_type="")
    items = {
        (t, int(i or 0))
        for t, i in sent.filter(notification__item_id__isnull=False)
        .values_list("notification__item_type", "notification__item_id")
        .distinct()
    }
    start = min(timing.week_start(since, tz), timing.day_start(since, tz))
    capped = sent.filter(
        sent_at__gte=start,
        notification__kind__in=policy.CAPPED_KINDS,
        notification__urgency__lt=Urgency.ALERT,
    ).values_list("sent_at", "notification__urgency")
    return items, list(capped)


def device_simulate(
    device: Device, settings: Settings, *, now: datetime | None = None
) -> Simulation:
    """Replay the last ``WINDOW`` of notifications for ``device`` with ``settings``."""
    now = now or timezone.now()
    since = now - WINDOW
    notifications, considered, truncated = window_notifications(now=now)
    replayed = replayed_notifications(device, settings, notifications)
    earlier_items, earlier_capped = pushed_before(device, since=since, tz=settings.timezone)
    outcomes = replay(
        replayed, settings, earlier_items=earlier_items, earlier_capped=earlier_capped
    )
    return Simulation(
        since=since, until=now, considered=considered, truncated=truncated, outcomes=outcomes
    )
