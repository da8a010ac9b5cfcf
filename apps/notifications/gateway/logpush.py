"""The ``log`` push backend: records what would be sent, sends nothing (embedded mode, tests).

Same interface and same checks as the FCM gateway (batch ≤ 500, payload ≤ 4,096 bytes
measured with the SDK's encoding), so code that works against it works against FCM.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from apps.notifications.gateway.fcm import payload_size
from apps.notifications.gateway.push import (
    MAX_PAYLOAD_BYTES,
    Outcome,
    OutgoingPush,
    PushResult,
    check_batch,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoggedPush:
    """One push the log backend accepted."""

    at: datetime
    push: OutgoingPush
    message_id: str
    payload_bytes: int


class LogGateway:
    """Keeps the last ``capacity`` pushes in memory (``records()``) and logs each at INFO."""

    name = "log"

    def __init__(self, capacity: int = 1000) -> None:
        self._records: deque[LoggedPush] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, pushes: Sequence[OutgoingPush]) -> list[PushResult]:
        results = []
        for push in check_batch(pushes):
            try:
                size = payload_size(push)
            except ValueError as error:
                results.append(PushResult(push.token, Outcome.INVALID_PAYLOAD, detail=str(error)))
                continue
            if size > MAX_PAYLOAD_BYTES:
                results.append(
                    PushResult(
                        push.token,
                        Outcome.INVALID_PAYLOAD,
                        error_code="PAYLOAD_TOO_LARGE",
                        detail=f"payload of {size} bytes is over FCM's {MAX_PAYLOAD_BYTES}",
                    )
                )
                continue
            with self._lock:
                message_id = f"log-{next(self._ids)}"
                self._records.append(LoggedPush(timezone.now(), push, message_id, size))
            logger.info(
                "push (log backend) %s to %s…: [%s] %s — %s",
                message_id,
                push.token[:12],
                push.urgency.code,
                push.title,
                push.body[:80],
            )
            results.append(PushResult(push.token, Outcome.SENT, message_id=message_id))
        return results

    def records(self) -> list[LoggedPush]:
        """What was "sent", oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def close(self) -> None:
        """Nothing to release."""
