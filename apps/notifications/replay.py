"""The push simulator's policy replay, pure (no ORM, no query): what the pipeline would have
done with each push that targets a device with candidate settings (``simulation``).

In time order: ``policy.before_send`` holds a non-alert push in the quiet hours (the device's
zone) until they end; ``policy.budget`` lets it go or holds it back (daily cap, daily important
limit, weekly information budget), counting the capped pushes sent before it — those of the
replay and the real ones given from before the window; what is held back goes into the daily
digest (``timing.digest_at``) or the weekly one (``timing.weekly_digest_at``), the digest itself
being held by the quiet hours in turn. An update goes to a device that was targeted by the
candidate settings, or that had been pushed about the item before the update was created.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from apps.core.models import Urgency
from apps.notifications import policy, timing
from apps.notifications.codes import Reason

PUSH, DIGEST = "push", "digest"


@dataclass(frozen=True)
class CandidatePlace:
    label: str
    lon: float
    lat: float
    radius_m: int


@dataclass(frozen=True)
class Settings:
    """What the simulation reads of a device: its preferences, places and follows."""

    places: tuple[CandidatePlace, ...]
    category_ids: frozenset[int]
    area_ids: frozenset[int]
    notifications_enabled: bool
    min_urgency: int
    timezone: str
    quiet_hours_start: time | None
    quiet_hours_end: time | None
    max_pushes_per_day: int
    info_per_week: int
    important_per_day: int
    weekly_digest_day: int | None
    weekly_digest_time: time
    remind_saved_events: bool
    remind_works_near_home: bool


@dataclass(frozen=True)
class Replayed:
    """A notification of the window that targets the device, with what the replay needs."""

    notification_id: int
    kind: str
    item_type: str
    item_id: int
    urgency: int
    title: dict[str, str]
    created_at: datetime
    expires_at: datetime | None
    #: In the audience by the candidate settings (for an update: without its earlier pushes).
    targeted: bool


@dataclass(frozen=True)
class Outcome:
    """One replayed push about an item: sent as a push at ``sent_at``, or held back and sent
    in the digest of ``sent_at``."""

    replayed: Replayed
    delivered_as: str
    sent_at: datetime
    reason: str = ""


def _used(sent: Iterable[tuple[datetime, int]], at: datetime, tz: str) -> policy.Used:
    """``policy.Used`` at ``at`` from the capped pushes ``sent`` (as ``sending._used``)."""
    day, week = timing.day_start(at, tz), timing.week_start(at, tz)
    used = policy.Used()
    for sent_at, urgency in sent:
        if sent_at > at:
            continue
        if sent_at >= day:
            used.today += 1
            if urgency >= Urgency.IMPORTANT:
                used.important_today += 1
        if urgency < Urgency.IMPORTANT and sent_at >= week:
            used.info_week += 1
    return used


def _quiet_end(at: datetime, settings: Settings) -> datetime:
    """``at``, or the end of the quiet hours it falls in."""
    until = timing.quiet_until(
        at, settings.quiet_hours_start, settings.quiet_hours_end, settings.timezone
    )
    return at if until is None else until


def replay(
    replayed: Sequence[Replayed],
    settings: Settings,
    *,
    earlier_items: set[tuple[str, int]],
    earlier_capped: Sequence[tuple[datetime, int]],
) -> list[Outcome]:
    """What the pipeline would have done with each push (pure; see the module docstring)."""
    if not settings.notifications_enabled:
        return []
    tz = settings.timezone
    queue = [(r.created_at, r.notification_id, i) for i, r in enumerate(replayed)]
    heapq.heapify(queue)
    capped_sent: list[tuple[datetime, int]] = list(earlier_capped)
    pushed_items: list[tuple[datetime, tuple[str, int]]] = []
    outcomes: list[Outcome] = []
    decided: set[int] = set()
    while queue:
        at, _pk, index = heapq.heappop(queue)
        r = replayed[index]
        if index not in decided:
            decided.add(index)
            key = (r.item_type, r.item_id)
            # An update goes to the devices pushed about the item before it was created.
            earlier = key in earlier_items or any(
                k == key and sent_at <= r.created_at for sent_at, k in pushed_items
            )
            if not r.targeted and not earlier:
                continue
        candidate = policy.Candidate(
            kind=r.kind,
            urgency=r.urgency,
            attempts=0,
            notifications_enabled=True,
            live_token=True,
            item_public=r.expires_at is None or r.expires_at > at,
            quiet_start=settings.quiet_hours_start,
            quiet_end=settings.quiet_hours_end,
            timezone=tz,
        )
        before = policy.before_send(candidate, now=at, max_attempts=1)
        if before.verdict is policy.Verdict.HOLD and before.until is not None:
            heapq.heappush(queue, (before.until, r.notification_id, index))
            continue
        if before.verdict is not policy.Verdict.SEND:
            continue
        capped = policy.is_capped(r.kind, r.urgency)
        entry = policy.CapEntry(
            device_id=0,
            limit=settings.max_pushes_per_day,
            capped_kind=capped,
            urgency=r.urgency,
            info_per_week=settings.info_per_week,
            important_per_day=settings.important_per_day,
        )
        used = {0: _used(capped_sent, at, tz)} if capped else {}
        [verdict] = policy.budget([entry], used=used)
        if verdict is None:
            if capped:
                capped_sent.append((at, r.urgency))
            pushed_items.append((at, (r.item_type, r.item_id)))
            outcomes.append(Outcome(r, PUSH, at))
            continue
        if verdict is Reason.BUDGET and settings.weekly_digest_day is not None:
            digest = timing.weekly_digest_at(
                at, tz, settings.weekly_digest_day, settings.weekly_digest_time
            )
        else:
            digest = timing.digest_at(at, tz)
        outcomes.append(Outcome(r, DIGEST, _quiet_end(digest, settings), str(verdict)))
    return outcomes
