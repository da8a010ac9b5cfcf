"""The simulator's policy replay, without a database: quiet hours, budget and digests, updates
and expired items, in the device's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from apps.core.models import Urgency
from apps.notifications.codes import Kind
from apps.notifications.replay import DIGEST, PUSH, Replayed, Settings, replay

#: Wednesday 2 December 2026, 13:00 in Paris.
T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def settings(**changes) -> Settings:
    values: dict[str, Any] = {
        "places": (),
        "category_ids": frozenset(),
        "area_ids": frozenset(),
        "notifications_enabled": True,
        "min_urgency": Urgency.INFO,
        "timezone": "Europe/Paris",
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "max_pushes_per_day": 5,
        "info_per_week": 3,
        "important_per_day": 2,
        "weekly_digest_day": None,
        "weekly_digest_time": time(18, 0),
        "remind_saved_events": True,
        "remind_works_near_home": True,
    }
    values.update(changes)
    return Settings(**values)


def pushed(pk: int, at: datetime, *, kind=Kind.NEW, urgency=Urgency.INFO, **fields) -> Replayed:
    values: dict[str, Any] = {
        "notification_id": pk,
        "kind": kind,
        "item_type": "works",
        "item_id": pk,
        "urgency": urgency,
        "title": {"fr": f"n° {pk}", "en": f"no. {pk}"},
        "created_at": at,
        "expires_at": None,
        "targeted": True,
    }
    values.update(fields)
    return Replayed(**values)


def test_a_digest_waits_for_the_end_of_the_quiet_hours():
    # the evening digest is at 18:30 in Paris; quiet hours from 18:00 hold it until 07:00
    quiet = settings(info_per_week=1, quiet_hours_start=time(18, 0), quiet_hours_end=time(7, 0))
    outcomes = replay(
        [pushed(1, T0), pushed(2, T0 + timedelta(minutes=1))],
        quiet,
        earlier_items=set(),
        earlier_capped=[],
    )
    assert [(o.delivered_as, o.sent_at, o.reason) for o in outcomes] == [
        (PUSH, T0, ""),
        (DIGEST, datetime(2026, 12, 3, 6, 0, tzinfo=UTC), "budget"),
    ]


def test_pushes_before_the_window_count_against_the_week():
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    outcomes = replay(
        [pushed(1, T0)],
        settings(info_per_week=2),
        earlier_items=set(),
        earlier_capped=[(monday, Urgency.INFO), (monday, Urgency.INFO)],
    )
    assert [o.delivered_as for o in outcomes] == [DIGEST]


def test_an_update_follows_an_earlier_push_only():
    later = T0 + timedelta(hours=2)
    first = pushed(1, T0)
    update = pushed(2, later, kind=Kind.UPDATE, item_id=1, targeted=False)
    other = pushed(3, later, kind=Kind.UPDATE, item_id=9, targeted=False)
    outcomes = replay([first, update, other], settings(), earlier_items=set(), earlier_capped=[])
    assert [o.replayed.notification_id for o in outcomes] == [1, 2]
    # pushed about item 9 before the window: its update comes too
    again = replay([other], settings(), earlier_items={("works", 9)}, earlier_capped=[])
    assert [o.replayed.notification_id for o in again] == [3]


def test_alerts_pass_quiet_hours_and_expired_items_are_skipped():
    night = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)  # 23:00 in Paris
    quiet = settings(quiet_hours_start=time(22, 0), quiet_hours_end=time(7, 0))
    outcomes = replay(
        [
            pushed(1, night, urgency=Urgency.ALERT),
            pushed(2, night, expires_at=night + timedelta(hours=1)),  # expired by 07:00
        ],
        quiet,
        earlier_items=set(),
        earlier_capped=[],
    )
    assert [(o.replayed.notification_id, o.sent_at) for o in outcomes] == [(1, night)]
    assert (
        replay(
            [pushed(1, T0)],
            settings(notifications_enabled=False),
            earlier_items=set(),
            earlier_capped=[],
        )
        == []
    )
