"""The neutral push API: what callers hand to a gateway and what they get back (architecture.md §6).

No firebase-admin type crosses this boundary. A gateway's ``send(pushes)`` takes at most
``MAX_BATCH_SIZE`` ``OutgoingPush`` and returns one ``PushResult`` per push, in order; it never
raises for a remote failure (only ``BatchTooLargeError`` for a programming error). What the
caller does with each ``outcome`` is the error policy:

=================  ==================================================  ============================
outcome            from                                                the caller
=================  ==================================================  ============================
sent               success (``message_id`` set)                        mark the delivery sent
dead_token         UNREGISTERED, SENDER_ID_MISMATCH, INVALID_ARGUMENT  deactivate the token
                   naming the registration token
invalid_payload    INVALID_ARGUMENT about the message; payload over    fail the delivery, keep the
                   4,096 bytes (checked before sending)                token, fix the content
auth_error         THIRD_PARTY_AUTH_ERROR (APNs/web-push credentials   alarm; keep tokens; retry
                   of the Firebase project), our service account or    once fixed
                   access token refused
quota              QUOTA_EXCEEDED (429)                                retry after ``retry_after_s``
transient          UNAVAILABLE, INTERNAL, timeouts, connection and     retry with backoff + jitter
                   google-auth transport errors                        (``retry_delay_s``)
=================  ==================================================  ============================
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from apps.core.models import Urgency

MAX_BATCH_SIZE = 500  # FCM's limit per send_each call
MAX_PAYLOAD_BYTES = 4096  # FCM's limit for token messages (2,048 for topics, unused here)
MAX_TTL_S = 28 * 24 * 3600  # FCM keeps an undelivered message at most 28 days
DEFAULT_TTL_S = 24 * 3600
MAX_TAG_BYTES = 64  # apns-collapse-id is limited to 64 bytes
# Android notification channels the app creates, one per urgency (the user can mute each).
CHANNEL_IDS: dict[Urgency, str] = {
    Urgency.INFO: "quartier_info",
    Urgency.IMPORTANT: "quartier_important",
    Urgency.ALERT: "quartier_alert",
}
# Keys FCM reserves in ``data`` (a message using one is rejected as a whole).
RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
RESERVED_DATA_PREFIXES = ("google.", "gcm.")
# Retries of transient failures back off up to this; it stays far below the Redis visibility
# timeout (1 h) so a countdown never outlives the broker's redelivery window.
MAX_RETRY_DELAY_S = 900.0
QUOTA_DEFAULT_DELAY_S = 60.0


class Outcome(StrEnum):
    SENT = "sent"
    DEAD_TOKEN = "dead_token"
    INVALID_PAYLOAD = "invalid_payload"
    AUTH_ERROR = "auth_error"
    QUOTA = "quota"
    TRANSIENT = "transient"


class BatchTooLargeError(ValueError):
    """More than ``MAX_BATCH_SIZE`` pushes in one ``send`` call."""


@dataclass(frozen=True, slots=True)
class OutgoingPush:
    """One notification to one registration token, its text already in the device's language.

    ``tag`` identifies the item (e.g. ``works-42``): it becomes the Android collapse key and
    notification tag and the APNs collapse id, so an update replaces the earlier push on the
    phone. ``data`` (strings only) reaches the app, e.g. ``{"type": "works", "id": "42"}``.
    """

    token: str
    title: str
    body: str
    urgency: Urgency = Urgency.INFO
    data: Mapping[str, str] = field(default_factory=dict)
    tag: str = ""
    language: str = "fr"
    ttl_s: int = DEFAULT_TTL_S

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token:
            raise ValueError("token must be a non-empty string")
        if not isinstance(self.title, str) or not isinstance(self.body, str):
            raise ValueError("title and body must be strings")
        object.__setattr__(self, "urgency", Urgency(self.urgency))
        if not isinstance(self.ttl_s, int) or not 0 <= self.ttl_s <= MAX_TTL_S:
            raise ValueError(f"ttl_s must be an integer in [0, {MAX_TTL_S}]")
        if len(self.tag.encode()) > MAX_TAG_BYTES:
            raise ValueError(f"tag must be at most {MAX_TAG_BYTES} bytes")
        for key, value in self.data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"data must map strings to strings (key {key!r})")
            if key in RESERVED_DATA_KEYS or key.startswith(RESERVED_DATA_PREFIXES):
                raise ValueError(f"data key {key!r} is reserved by FCM")


@dataclass(frozen=True, slots=True)
class PushResult:
    """What became of one push. ``retry_after_s`` is the server's ``Retry-After``, if any."""

    token: str
    outcome: Outcome
    message_id: str | None = None
    error_code: str | None = None
    retry_after_s: float | None = None
    detail: str = ""

    @property
    def deactivate_token(self) -> bool:
        """Only a dead-token outcome deactivates the token (never a bad payload)."""
        return self.outcome is Outcome.DEAD_TOKEN

    @property
    def retryable(self) -> bool:
        return self.outcome in (Outcome.QUOTA, Outcome.TRANSIENT)


def retry_delay_s(
    result: PushResult,
    attempt: int,
    *,
    base_s: float = 5.0,
    cap_s: float = MAX_RETRY_DELAY_S,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry) of ``result``.

    quota: the server's ``Retry-After`` (60 s without one) plus up to 10 % jitter, so that all
    workers do not come back in the same second. transient: exponential backoff with "equal
    jitter" (between half and all of ``base_s * 2**attempt``, capped), never sooner than the
    ``Retry-After`` a 503 may carry.
    """
    draw = (rng or random).uniform
    if result.outcome is Outcome.QUOTA:
        wait = result.retry_after_s if result.retry_after_s is not None else QUOTA_DEFAULT_DELAY_S
        return min(cap_s, wait * (1 + draw(0, 0.1)))
    if result.outcome is Outcome.TRANSIENT:
        backoff = min(cap_s, base_s * 2 ** max(0, attempt))
        return min(cap_s, max(draw(backoff / 2, backoff), result.retry_after_s or 0.0))
    raise ValueError(f"a {result.outcome} result is not retried")


class PushGateway(Protocol):
    """What ``get_gateway()`` returns: the FCM gateway or the log backend."""

    name: str

    def send(self, pushes: Sequence[OutgoingPush]) -> list[PushResult]: ...

    def close(self) -> None: ...


def check_batch(pushes: Sequence[OutgoingPush]) -> list[OutgoingPush]:
    """The batch as a list; raise ``BatchTooLargeError`` past ``MAX_BATCH_SIZE``."""
    batch = list(pushes)
    if len(batch) > MAX_BATCH_SIZE:
        raise BatchTooLargeError(
            f"{len(batch)} pushes in one batch; FCM accepts at most {MAX_BATCH_SIZE}"
        )
    return batch
