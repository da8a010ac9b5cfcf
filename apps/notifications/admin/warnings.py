"""Warnings in the admin when pushes do not leave: scheduled notifying items past their
publication time (beat or the lifecycle task is down: ``services.scheduled_items_late``),
deliveries stuck past the sweeper's thresholds (beat or the ``push`` workers are down), and
deliveries waiting for a retry because FCM refused our credentials (every push fails); their
counts through ``apps.core.disclosure`` (the number of late items is not about residents).

Shown above the admin index (``admin.site.index_template``), the notification list and, for
one late item, in its reach panel. Editors see their organizations' items only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest

from apps.core.disclosure import Cell, K, Relation, Shown, disclose, keys_combined
from apps.notifications.admin.access import (
    can_view_notifications,
    organization_scope,
    visible_notifications,
)
from apps.notifications.admin.notifications import item_admin_url
from apps.notifications.selectors import (
    LateItem,
    StuckDeliveries,
    late_items,
    stuck_deliveries,
)

INDEX_TEMPLATE = "admin/notifications/index.html"
#: Late items named in the banner at most (the count covers all of them).
LATE_SHOWN = 10


@dataclass(frozen=True)
class LateLink:
    item: LateItem
    url: str | None


def stuck_shown(stuck: StuckDeliveries) -> dict[str, Shown]:
    """The stuck counts as staff see them (``apps.core.disclosure``): they are deliveries to
    devices, and all of a notification's when nothing left (its audience, exactly)."""
    cells = {
        "sending": Cell(stuck.sending, stuck.sending_key),
        "pending": Cell(stuck.pending, stuck.pending_key),
        "total": Cell(stuck.total, keys_combined((stuck.sending_key, stuck.pending_key))),
    }
    return disclose(cells, [Relation("total", ("sending", "pending"))])


def admin_warnings(request: HttpRequest | None) -> dict[str, Any]:
    """The banner's context: late items with links, stuck deliveries; empty for users who
    cannot see notifications."""
    user = getattr(request, "user", None)
    if user is None or not can_view_notifications(user):
        return {}
    scope = organization_scope(user)
    late = late_items(organization_ids=scope)
    notifications = None if scope is None else visible_notifications(user)
    stuck: StuckDeliveries = stuck_deliveries(notifications=notifications)
    return {
        "late": [LateLink(i, item_admin_url(i.type_code, i.pk)) for i in late[:LATE_SHOWN]],
        "late_count": len(late),
        "stuck": stuck_shown(stuck) if stuck.total else None,
        "small_count": K,
        "stuck_sending_s": getattr(settings, "NOTIFY_STUCK_SENDING_S", 120),
        "stuck_pending_s": getattr(settings, "NOTIFY_STUCK_PENDING_S", 300),
        "auth_refused": stuck.auth_refused,
    }


# The index shows the banner above the application list (the template extends Django's).
admin.site.index_template = INDEX_TEMPLATE
