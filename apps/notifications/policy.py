"""The push pipeline's decisions as pure functions: what to do with a delivery before sending it
and after its result (architecture.md §6). No ORM, no query: the services load rows, ask, and write.

Before sending (``before_send``), in this order: a row that already used its
``NOTIFY_MAX_ATTEMPTS`` fails (``retries_exhausted``); a device with notifications off, or
without a live token, is skipped; a push about an item no longer public is skipped
(``expired``); a non-alert push (not a staff test) in the device's quiet hours is held until they
end; the rest may go. Then ``budget`` applies the device's limits to pushes of capped kinds
(alerts are never capped): at most ``max_pushes_per_day`` a local day, ``important_per_day``
important ones a local day (``capped``), and ``info_per_week`` information pushes a local week
(``budget``); the excess is skipped and folded into a digest (daily, or weekly by choice).

After a result (``after_result``): sent; dead token (fail, deactivate the token); bad payload
(fail, keep the token); otherwise retried — auth errors ``AUTH_RETRY_S`` later, quota and
transient errors after ``Retry-After`` or backoff with jitter — until the attempts are used up,
then failed (``auth_error`` or ``retries_exhausted``).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from apps.core.models import Urgency
from apps.notifications import timing
from apps.notifications.codes import Kind, Reason
from apps.notifications.gateway.push import Outcome, PushResult, retry_delay_s

#: Kinds that count towards a device's daily cap and are themselves capped (non-alerts).
CAPPED_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)
#: Kinds tied to an item that must still be public when the push goes out.
ITEM_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)
#: How long FCM keeps a push for an offline phone: the more urgent, the sooner it is stale
#: (an alert read a day late misleads); reminders and tests are only useful shortly.
TTL_S = {Urgency.INFO: 24 * 3600, Urgency.IMPORTANT: 12 * 3600, Urgency.ALERT: 6 * 3600}
KIND_TTL_S = {Kind.REMINDER: 3 * 3600, Kind.TEST: 3600, Kind.DIGEST: 12 * 3600}
#: Auth errors (our credentials) are retried this much later, once someone fixed them.
AUTH_RETRY_S = 600.0
#: ``error_code`` of a row waiting for its retry after an auth error (``auth:RefreshError``…):
#: the admin's alarm counts them (``selectors.push_auth_failures``).
AUTH_CODE_PREFIX = "auth:"
#: ``Delivery.error_code`` holds at most this many characters.
ERROR_CODE_CHARS = 40


class Verdict(StrEnum):
    SEND = "send"
    HOLD = "hold"
    SKIP = "skip"
    FAIL = "fail"
    SENT = "sent"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the rules read of one claimed delivery, its notification and its device."""

    kind: str
    urgency: int
    attempts: int
    notifications_enabled: bool
    live_token: bool
    item_public: bool = True  # read only for ``ITEM_KINDS``
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = ""


@dataclass(frozen=True, slots=True)
class Before:
    """``send``; ``hold`` ``until``; ``skip`` or ``fail`` for ``reason``."""

    verdict: Verdict
    reason: Reason | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class After:
    """``sent``; ``fail`` for ``reason``; ``retry`` in ``delay_s`` whole seconds."""

    verdict: Verdict
    reason: Reason | None = None
    error_code: str = ""
    delay_s: int = 0
    deactivate_token: bool = False


def ttl_s(kind: str, urgency: int) -> int:
    """How long FCM keeps the push for an offline phone."""
    return KIND_TTL_S.get(Kind(kind), TTL_S[Urgency(urgency)])


def is_capped(kind: str, urgency: int) -> bool:
    """Whether a push counts towards, and is limited by, the device's daily cap."""
    return kind in CAPPED_KINDS and urgency < Urgency.ALERT


def attempts_exhausted(attempts: int, *, max_attempts: int) -> bool:
    """Whether a row claimed ``attempts`` times already must not be sent again (the claim and
    the sweeper both ask)."""
    return attempts >= max_attempts


def before_send(candidate: Candidate, *, now: datetime, max_attempts: int) -> Before:
    """The fate of one claimed row before the daily cap (see the module docstring)."""
    c = candidate
    if attempts_exhausted(c.attempts, max_attempts=max_attempts):
        # Taken back by the sweeper after its last attempt (a worker died, or the task
        # raised): never sent again.
        return Before(Verdict.FAIL, Reason.RETRIES_EXHAUSTED)
    if not c.notifications_enabled:
        return Before(Verdict.SKIP, Reason.DISABLED)
    if not c.live_token:
        return Before(Verdict.SKIP, Reason.NO_TOKEN)
    if c.kind in ITEM_KINDS and not c.item_public:
        return Before(Verdict.SKIP, Reason.EXPIRED)
    if c.kind != Kind.TEST and c.urgency < Urgency.ALERT:
        until = timing.quiet_until(now, c.quiet_start, c.quiet_end, c.timezone)
        if until is not None:
            return Before(Verdict.HOLD, until=until)
    return Before(Verdict.SEND)


@dataclass(frozen=True, slots=True)
class CapEntry:
    """One row that may go: its device, that device's limits, whether the cap applies and the
    push's urgency."""

    device_id: int
    limit: int
    capped_kind: bool
    urgency: int = Urgency.INFO
    info_per_week: int = 1_000
    important_per_day: int = 1_000


@dataclass(slots=True)
class Used:
    """Pushes of capped kinds a device already received: today (all, and important ones) and
    this week (information ones), in its local calendar."""

    today: int = 0
    important_today: int = 0
    info_week: int = 0


def budget(entries: Sequence[CapEntry], *, used: Mapping[int, Used]) -> list[Reason | None]:
    """Per entry, in order, None when it may go, else why not: ``capped`` (over the daily cap
    or the daily important limit) or ``budget`` (over the weekly information budget). Earlier
    entries go first and count for later ones; a push held back counts for nothing."""
    counts: dict[int, Used] = defaultdict(Used)
    for device_id, u in used.items():
        counts[device_id] = Used(u.today, u.important_today, u.info_week)
    verdicts: list[Reason | None] = []
    for entry in entries:
        if not entry.capped_kind or entry.urgency >= Urgency.ALERT:
            verdicts.append(None)
            continue
        c = counts[entry.device_id]
        important = entry.urgency >= Urgency.IMPORTANT
        if c.today >= entry.limit or (important and c.important_today >= entry.important_per_day):
            verdicts.append(Reason.CAPPED)
            continue
        if not important and c.info_week >= entry.info_per_week:
            verdicts.append(Reason.BUDGET)
            continue
        c.today += 1
        if important:
            c.important_today += 1
        else:
            c.info_week += 1
        verdicts.append(None)
    return verdicts


def after_result(
    result: PushResult,
    *,
    attempts: int,
    max_attempts: int,
    rng: random.Random | None = None,
) -> After:
    """What to write after ``result`` of a row sent for the ``attempts``-th time."""
    code = result.error_code or ""
    if result.outcome is Outcome.SENT:
        return After(Verdict.SENT)
    if result.outcome is Outcome.DEAD_TOKEN:
        return After(
            Verdict.FAIL, Reason.DEAD_TOKEN, code[:ERROR_CODE_CHARS], deactivate_token=True
        )
    if result.outcome is Outcome.INVALID_PAYLOAD:
        return After(Verdict.FAIL, Reason.INVALID_PAYLOAD, code[:ERROR_CODE_CHARS])
    if attempts_exhausted(attempts, max_attempts=max_attempts):
        reason = (
            Reason.AUTH_ERROR if result.outcome is Outcome.AUTH_ERROR else Reason.RETRIES_EXHAUSTED
        )
        return After(Verdict.FAIL, reason, code[:ERROR_CODE_CHARS])
    if result.outcome is Outcome.AUTH_ERROR:
        delay = AUTH_RETRY_S
        code = AUTH_CODE_PREFIX + code  # the admin's alarm finds waiting rows by it
    else:
        delay = retry_delay_s(result, attempts - 1, rng=rng)
    # Whole seconds, never sooner than asked (round() could anticipate Retry-After).
    return After(
        Verdict.RETRY, error_code=code[:ERROR_CODE_CHARS], delay_s=max(1, math.ceil(delay))
    )
