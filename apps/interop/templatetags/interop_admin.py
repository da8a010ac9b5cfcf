"""``{% source_warnings %}``: the banner naming import sources whose last run failed."""

from __future__ import annotations

from typing import Any

from django import template

from apps.interop.admin import source_warnings as warnings_context

register = template.Library()


@register.inclusion_tag("admin/interop/warnings.html", takes_context=True)
def source_warnings(context: dict[str, Any]) -> dict[str, Any]:
    return warnings_context(context.get("request"))
