"""The reach preview under every content form: about how many phones a notification of this
item reaches, split by area, whether "Notifier" is on, the item's notifications, and a warning
when its scheduled send is late.

Two queries: the audience split by area (``audience.reach_by_area``, whose sum is the
audience's count) and the item's notifications. Counts below ``SMALL_COUNT`` are masked.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import number_format

from apps.core.admin.panels import register_change_form_panel
from apps.core.models import Status
from apps.notifications import audience
from apps.notifications.admin.access import can_view_notifications
from apps.notifications.selectors import LATE_GRACE_S, is_late, item_notifications
from apps.residents.statistics import SMALL_COUNT, masked

#: Notifications listed in the panel at most (the newest; the list links to all of them).
PANEL_NOTIFICATIONS = 5


def approximate(count: int) -> str:
    """``"1 240"`` (French grouping), or ``"< 5"`` for a small count."""
    if count < SMALL_COUNT:
        return masked(count)
    return number_format(count, force_grouping=True)


@register_change_form_panel
def reach_preview(request: HttpRequest, obj: Any, model: type) -> str | None:
    """The panel's HTML for a saved item; nothing on the add form."""
    if obj is None or obj.pk is None:
        return None
    by_area = audience.reach_by_area(obj)
    total = sum(n for _name, n in by_area)
    areas = [(name, approximate(n)) for name, n in by_area]
    notifications: list[Any] = []
    more_url = None
    if can_view_notifications(request.user):
        found = list(item_notifications(obj.type_code, obj.pk)[: PANEL_NOTIFICATIONS + 1])
        notifications = [
            (n, reverse("admin:notifications_notification_change", args=[n.pk]))
            for n in found[:PANEL_NOTIFICATIONS]
        ]
        if len(found) > PANEL_NOTIFICATIONS:
            changelist = reverse("admin:notifications_notification_changelist")
            more_url = f"{changelist}?item_type={obj.type_code}&item_id={obj.pk}"
    context = {
        "item": obj,
        "total": approximate(total),
        "few": total < SMALL_COUNT,
        "areas": areas,
        "notify": obj.notify,
        "published": obj.status == Status.PUBLISHED,
        "scheduled": obj.status == Status.SCHEDULED,
        "late": is_late(obj),
        "late_grace_minutes": LATE_GRACE_S // 60,
        "notifications": notifications,
        "more_url": more_url,
        "small_count": SMALL_COUNT,
    }
    return render_to_string("admin/notifications/reach.html", context, request=request)
