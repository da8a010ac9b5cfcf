"""What the OpenAgenda tests share: events built from the contract's own example, the fake."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apps.interop.openagenda import contract

PARIS = ZoneInfo("Europe/Paris")


def example_event() -> dict[str, Any]:
    """The contract's ``Event`` example (a fixture of the spec itself)."""
    return copy.deepcopy(contract.example("Event"))


def agenda_event(
    uid: int,
    *,
    start: datetime | None = None,
    slots: int = 1,
    status: int = 1,
    title: str | None = None,
    location: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A detailed ``Event`` shaped as the example, with ``slots`` daily timings of 2 h."""
    event = example_event()
    first = start or datetime.now(PARIS).replace(microsecond=0, second=0, minute=0) + timedelta(
        days=3
    )
    event["uid"] = uid
    event["slug"] = f"evenement-{uid}"
    event["title"] = {"fr": title or f"Concert n° {uid}", "en": f"Concert #{uid}"}
    event["status"] = status
    event["timings"] = [
        {
            "begin": (first + timedelta(days=i)).isoformat(),
            "end": (first + timedelta(days=i, hours=2)).isoformat(),
        }
        for i in range(slots)
    ]
    event["firstTiming"] = event["timings"][0]
    event["lastTiming"] = event["timings"][-1]
    event["nextTiming"] = event["timings"][0]
    if location is not None:
        event["location"] = {**event["location"], **location}
    return event
