"""The push pipeline: create notifications with their audience, hand deliveries to the gateway,
apply the error policy, recover what got stuck (architecture.md §6).

**Outbox.** ``item_notify`` runs inside the publishing transaction (a ``content_published``
receiver): the notification row and every delivery row (``INSERT … SELECT`` of the audience)
commit with the publication or not at all, and ``dispatch`` is enqueued on commit. If that
enqueue is lost (broker down at that instant), the sweeper finds the pending rows.

**Sending.** ``dispatch`` cuts a notification's pending deliveries into batches of at most 500
(FCM's limit) and enqueues one ``send_batch`` task per batch on the ``push`` queue.
``deliveries_send`` claims its rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (only rows still
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

# The rules' constants live with the rules (``policy``); callers of the pipeline read these here.
from apps.notifications.policy import AUTH_CODE_PREFIX, AUTH_RETRY_S
from apps.notifications.services.common import tag_for
from apps.notifications.services.outbox import (
    device_test_push,
    event_reminder_notify,
    item_announced,
    item_notify,
    items_notify_new,
    reminders_run,
    works_reminder_notify,
)
from apps.notifications.services.recovery import deliveries_sweep, scheduled_items_late
from apps.notifications.services.sending import (
    BatchReport,
    deliveries_send,
    notification_dispatch,
)

__all__ = [
    "AUTH_CODE_PREFIX",
    "AUTH_RETRY_S",
    "BatchReport",
    "deliveries_send",
    "deliveries_sweep",
    "device_test_push",
    "event_reminder_notify",
    "item_announced",
    "item_notify",
    "items_notify_new",
    "notification_dispatch",
    "reminders_run",
    "scheduled_items_late",
    "tag_for",
    "works_reminder_notify",
]
