"""``{% notification_warnings %}``: the late / stuck sends banner of the admin."""

from __future__ import annotations

from typing import Any

from django import template

from apps.notifications.admin.warnings import admin_warnings

register = template.Library()


@register.inclusion_tag("admin/notifications/warnings.html", takes_context=True)
def notification_warnings(context: dict[str, Any]) -> dict[str, Any]:
    return admin_warnings(context.get("request"))
