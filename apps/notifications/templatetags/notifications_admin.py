"""``{% notification_warnings %}``: the late / stuck sends banner of the admin;
``{% can_view_dashboard %}``: may the user open the organisation dashboard."""

from __future__ import annotations

from typing import Any

from django import template

from apps.notifications.admin.access import can_view_notifications
from apps.notifications.admin.warnings import admin_warnings

register = template.Library()


@register.inclusion_tag("admin/notifications/warnings.html", takes_context=True)
def notification_warnings(context: dict[str, Any]) -> dict[str, Any]:
    return admin_warnings(context.get("request"))


@register.simple_tag(takes_context=True)
def can_view_dashboard(context: dict[str, Any]) -> bool:
    request = context.get("request")
    return bool(request is not None and can_view_notifications(request.user))
