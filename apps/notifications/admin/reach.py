"""The reach preview under every content form: about how many phones a notification of this
item reaches, split by area, whether "Notifier" is on, the item's notifications, and a warning
when its scheduled send is late.

Two queries: the audience split by area with each group's disclosure key
(``audience.reach_cells``, whose sum is the audience's count) and the item's notifications.
The counts go through ``apps.core.disclosure``: a reach below ``K`` is refused ("Moins de 5
appareils", no split); otherwise the total and the areas are rounded, and small areas masked
with enough others that the total minus the shown areas isolates no small count.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from apps.core.admin.panels import register_change_form_panel
from apps.core.disclosure import BASE, Cell, K, Relation, Shown, disclose, keys_combined
from apps.core.models import Status
from apps.notifications import audience
from apps.notifications.admin.access import can_view_notifications
from apps.notifications.selectors import LATE_GRACE_S, is_late, item_notifications

#: Notifications listed in the panel at most (the newest; the list links to all of them).
PANEL_NOTIFICATIONS = 5


def reach_shown(groups: list[tuple[str, int, int]]) -> tuple[Shown, list[tuple[str, Shown]]]:
    """The total and the areas of ``audience.reach_cells`` as staff see them; no area at all
    when the total is masked (a reach below ``K`` is refused, not split)."""
    cells = {f"area:{i}": Cell(n, key) for i, (_name, n, key) in enumerate(groups)}
    cells["total"] = Cell(
        sum(n for _name, n, _key in groups), keys_combined(key for *_rest, key in groups)
    )
    shown = disclose(cells, [Relation("total", tuple(c for c in cells if c != "total"))])
    if shown["total"].masked:
        return shown["total"], []
    # By name, not by size: the order of the rows would rank the masked areas among the others.
    order = sorted(range(len(groups)), key=lambda i: (groups[i][0] == "", groups[i][0]))
    return shown["total"], [(groups[i][0], shown[f"area:{i}"]) for i in order]


def budget_shown(groups: list[tuple[str, int, int]], spent: Cell) -> Shown | None:
    """Of the reach (``reach_cells``), the devices whose limits would turn the push into a
    digest, as staff see it (within the total's relation); None when there are none."""
    total = Cell(sum(n for _name, n, _key in groups), keys_combined(k for *_r, k in groups))
    if spent.count == 0:
        return None
    shown = disclose({"total": total, "budget": spent}, [Relation("total", ("budget",))])
    return shown["budget"]


@register_change_form_panel
def reach_preview(request: HttpRequest, obj: Any, model: type) -> str | None:
    """The panel's HTML for a saved item; nothing on the add form."""
    if obj is None or obj.pk is None:
        return None
    cells = audience.reach_cells(obj)
    total, areas = reach_shown(cells)
    budget = None if total.masked else budget_shown(cells, audience.budget_spent_cell(obj))
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
        "total": total,
        "few": total.masked,
        "areas": areas,
        "budget": budget,
        "notify": obj.notify,
        "published": obj.status == Status.PUBLISHED,
        "scheduled": obj.status == Status.SCHEDULED,
        "late": is_late(obj),
        "late_grace_minutes": LATE_GRACE_S // 60,
        "notifications": notifications,
        "more_url": more_url,
        "small_count": K,
        "base": BASE,
    }
    return render_to_string("admin/notifications/reach.html", context, request=request)
