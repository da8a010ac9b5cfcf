"""What the fake FCM server is told to get wrong (faults) and what it saw (the recorder)."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

# Per-token faults: tokens listed under a name get that FCM error on every send.
# invalid_token carries a field violation on message.token (older answers); invalid_token_bare
# only the message "The registration token is not a valid FCM registration token" (newer ones).
TOKEN_FAULTS: dict[str, str] = {
    "unregistered": "UNREGISTERED",
    "sender_id_mismatch": "SENDER_ID_MISMATCH",
    "invalid_token": "INVALID_ARGUMENT",
    "invalid_token_bare": "INVALID_ARGUMENT",
    "invalid_payload": "INVALID_ARGUMENT",
    "third_party_auth": "THIRD_PARTY_AUTH_ERROR",
    "quota_exceeded": "QUOTA_EXCEEDED",
    "unavailable": "UNAVAILABLE",
    "internal": "INTERNAL",
}
STORM_ERRORS = {429: "QUOTA_EXCEEDED", 500: "INTERNAL", 503: "UNAVAILABLE"}
TOKEN_ENDPOINT_FAULTS = ("invalid_grant", "unavailable")


@dataclass
class Faults:
    """Injected faults. Reads from the server loop are lock-free; writes replace whole fields."""

    tokens: dict[str, frozenset[str]] = field(
        default_factory=lambda: dict.fromkeys(TOKEN_FAULTS, frozenset())
    )
    latency_s: float = 0.0
    storm_status: int | None = None
    storm_until: float = 0.0  # time.monotonic() deadline
    retry_after_s: int | None = None
    token_endpoint: str | None = None

    def fault_for(self, token: str) -> str | None:
        """The name of the per-token fault of ``token``, if any."""
        for name, tokens in self.tokens.items():
            if token in tokens:
                return name
        return None

    def storm_active(self) -> bool:
        return self.storm_status is not None and time.monotonic() < self.storm_until

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a ``POST /_faults`` body; raise ValueError (nothing applied) on a bad one."""
        if not isinstance(changes, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(changes) - {*TOKEN_FAULTS, "latency_ms", "storm", "token_endpoint"}
        if unknown:
            raise ValueError(f"unknown fault(s): {sorted(unknown)}")
        tokens = dict(self.tokens)
        for name in TOKEN_FAULTS:
            if name in changes:
                value = changes[name]
                if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                    raise ValueError(f"{name} must be a list of tokens")
                tokens[name] = frozenset(value)
        latency_s = self.latency_s
        if "latency_ms" in changes:
            latency = changes["latency_ms"]
            if not isinstance(latency, int | float) or not 0 <= latency <= 60_000:
                raise ValueError("latency_ms must be a number of milliseconds in [0, 60000]")
            latency_s = latency / 1000
        token_endpoint = changes.get("token_endpoint", self.token_endpoint)
        if token_endpoint is not None and token_endpoint not in TOKEN_ENDPOINT_FAULTS:
            raise ValueError(f"token_endpoint must be one of {TOKEN_ENDPOINT_FAULTS} or null")
        storm = _parse_storm(changes["storm"]) if "storm" in changes else None
        self.tokens = tokens
        self.latency_s = latency_s
        self.token_endpoint = token_endpoint
        if "storm" in changes:
            self.storm_status, self.storm_until, self.retry_after_s = storm or (None, 0.0, None)

    def as_dict(self) -> dict[str, Any]:
        remaining = max(0.0, self.storm_until - time.monotonic()) if self.storm_active() else 0
        return {
            **{name: sorted(tokens) for name, tokens in self.tokens.items()},
            "latency_ms": self.latency_s * 1000,
            "storm": (
                {
                    "status": self.storm_status,
                    "remaining_s": round(remaining, 3),
                    "retry_after_s": self.retry_after_s,
                }
                if self.storm_active()
                else None
            ),
            "token_endpoint": self.token_endpoint,
        }


def _parse_storm(storm: Any) -> tuple[int, float, int | None] | None:
    if storm is None:
        return None
    if not isinstance(storm, dict):
        raise ValueError("storm must be an object {status, duration_s, retry_after_s} or null")
    status = storm.get("status")
    duration = storm.get("duration_s")
    retry_after = storm.get("retry_after_s")
    if status not in STORM_ERRORS:
        raise ValueError(f"storm.status must be one of {sorted(STORM_ERRORS)}")
    if not isinstance(duration, int | float) or not 0 < duration <= 3600:
        raise ValueError("storm.duration_s must be a number of seconds in (0, 3600]")
    if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
        raise ValueError("storm.retry_after_s must be a non-negative integer or null")
    return status, time.monotonic() + duration, retry_after


class Recorder:
    """Counts per token and keeps the most recent accepted messages; safe across threads."""

    def __init__(self, keep_messages: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._keep = keep_messages
        self.reset()

    def reset(self) -> None:
        with self._lock:
            # Retry-After kept per token: (when it was told, seconds), until its next attempt.
            self._told: dict[str, tuple[float, float]] = {}
            self.retry_after_checks = 0  # attempts of a token that had been told to wait
            self.early_retries = 0  # ... that came sooner than it was told
            self.min_retry_margin_s: float | None = None  # least (waited - Retry-After)
            self.early_examples: list[dict[str, Any]] = []
            self.requests = 0  # authorised send requests
            self.sent = 0  # answered 200
            self.unauthorized = 0
            self.token_requests = 0  # successful token exchanges
            self.token_failures = 0
            self.received: Counter[str] = Counter()  # every authorised attempt, per token
            self.delivered: Counter[str] = Counter()  # accepted (200), per token
            self.errors: Counter[str] = Counter()  # per FCM errorCode
            self.messages: deque[dict[str, Any]] = deque(maxlen=self._keep)
            self._next_id = 0

    def attempt(self, token: str | None) -> None:
        """Count a send attempt; check it against a ``Retry-After`` its token was given."""
        now = time.monotonic()
        with self._lock:
            self.requests += 1
            if token is None:
                return
            self.received[token] += 1
            told = self._told.pop(token, None)
            if told is None:
                return
            told_at, wait_s = told
            margin = now - told_at - wait_s
            self.retry_after_checks += 1
            if self.min_retry_margin_s is None or margin < self.min_retry_margin_s:
                self.min_retry_margin_s = margin
            if margin < 0:
                self.early_retries += 1
                if len(self.early_examples) < 10:
                    self.early_examples.append(
                        {
                            "token": token,
                            "waited_s": round(now - told_at, 3),
                            "retry_after_s": wait_s,
                        }
                    )

    def told_to_wait(self, token: str, retry_after_s: float) -> None:
        """``token``'s answer carried ``Retry-After: retry_after_s``: its next attempt should
        not come sooner (checked by ``attempt``)."""
        with self._lock:
            self._told[token] = (time.monotonic(), float(retry_after_s))

    def accept(self, token: str, message: dict[str, Any], size: int) -> int:
        """Record a delivered message; return its message id."""
        with self._lock:
            self._next_id += 1
            self.sent += 1
            self.delivered[token] += 1
            if self._keep:
                self.messages.append(
                    {"id": self._next_id, "token": token, "bytes": size, "message": message}
                )
            return self._next_id

    def error(self, code: str) -> None:
        with self._lock:
            self.errors[code] += 1

    def count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)

    def snapshot(self, *, tokens: bool = True, messages: int = 0) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {
                "requests": self.requests,
                "sent": self.sent,
                "unauthorized": self.unauthorized,
                "token_requests": self.token_requests,
                "token_failures": self.token_failures,
                "errors": dict(self.errors),
                "distinct_tokens": len(self.delivered),
                "retry_after": {
                    "checked": self.retry_after_checks,
                    "early": self.early_retries,
                    "min_margin_s": (
                        None
                        if self.min_retry_margin_s is None
                        else round(self.min_retry_margin_s, 3)
                    ),
                    "early_examples": list(self.early_examples),
                    "waiting": len(self._told),
                },
            }
            if tokens:
                data["received"] = dict(self.received)
                data["delivered"] = dict(self.delivered)
            if messages:
                data["messages"] = list(self.messages)[-messages:]
            return data
