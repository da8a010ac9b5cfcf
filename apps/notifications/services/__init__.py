"""The push pipeline: create notifications with their audience, hand deliveries to the gateway,
apply the error policy, recover what got stuck (DESIGN §6).

**Outbox.** ``notify_item`` runs inside the publishing transaction (a ``content_published``
receiver): the notification row and every delivery row (``INSERT … SELECT`` of the audience)
commit with the publication or not at all, and ``dispatch`` is enqueued on commit. If that
enqueue is lost (broker down at that instant), the sweeper finds the pending rows.

**Sending.** ``dispatch`` cuts a notification's pending deliveries into batches of at most 500
(FCM's limit) and enqueues one ``send_batch`` task per batch on the ``push`` queue.
``send_deliveries`` claims its rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (only rows still
pending and due), decides per row — hold for quiet hours, skip (token gone, item withdrawn),
cap into a digest, or send — and marks the senders ``sending`` before committing. It then sends
outside any transaction and records each outcome. A worker killed between the two leaves rows
in ``sending``: the sweeper puts them back after ``NOTIFY_STUCK_SENDING_S``; at most that batch
is pushed twice, with the same tag, so the phone shows it once.

**Error policy** (``apps.notifications.gateway.push``): dead tokens are deactivated (only when
the token is still the device's), bad payloads fail the row and keep the token, auth errors
alarm and retry later, quota and transient errors retry with ``Retry-After`` or backoff and
jitter, until ``NOTIFY_MAX_ATTEMPTS``.
"""

from apps.notifications.services.common import (
    AUTH_CODE_PREFIX,
    AUTH_RETRY_S,
    CAPPED_KINDS,
    ITEM_KINDS,
    KIND_TTL_S,
    TTL_S,
    tag_for,
)
from apps.notifications.services.outbox import (
    notify_item,
    notify_reminder_event,
    notify_reminder_works,
    reminders_run,
    send_test_push,
    was_announced,
)
from apps.notifications.services.recovery import late_scheduled, sweep
from apps.notifications.services.sending import (
    BatchReport,
    dispatch_notification,
    send_deliveries,
)

__all__ = [
    "AUTH_CODE_PREFIX",
    "AUTH_RETRY_S",
    "CAPPED_KINDS",
    "ITEM_KINDS",
    "KIND_TTL_S",
    "TTL_S",
    "BatchReport",
    "dispatch_notification",
    "late_scheduled",
    "notify_item",
    "notify_reminder_event",
    "notify_reminder_works",
    "reminders_run",
    "send_deliveries",
    "send_test_push",
    "sweep",
    "tag_for",
    "was_announced",
]
