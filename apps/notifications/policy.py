"""The push pipeline's decisions as pure functions: what to do with a delivery before sending it
and after its result (architecture.md §6). No ORM, no query: the services load rows, ask, and write.

Before sending (``before_send``), in this order: a row that already used its
``NOTIFY_MAX_ATTEMPTS`` fails (``retries_exhausted``); a device with notifications off, or
without a live token, is skipped; a push about an item no longer public is skipped
(``expired``); a non-alert push (not a staff test) in the device's quiet hours is held until they
end; the rest may go. Then ``daily_cap`` lets each device receive at most its
``max_pushes_per_day`` pushes of capped kinds a local day (alerts are never capped); the excess
is skipped (``capped``) and folded into a digest.

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
    """One row that may go: its device, that device's daily limit, whether the cap applies."""

    device_id: int
    limit: int
    capped_kind: bool


def daily_cap(entries: Sequence[CapEntry], *, sent_today: Mapping[int, int]) -> list[bool]:
    """Per entry, in order, whether it is over its device's cap (given the pushes of capped
    kinds each device received since its local midnight); earlier entries go first."""
    counts: dict[int, int] = defaultdict(int, sent_today)
    over: list[bool] = []
    for entry in entries:
        if entry.capped_kind:
            if counts[entry.device_id] >= entry.limit:
                over.append(True)
                continue
            counts[entry.device_id] += 1
        over.append(False)
    return over


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
