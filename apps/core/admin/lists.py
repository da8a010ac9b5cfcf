"""Admin lists that fit a 1366 px laptop screen (issue 16): no navigation sidebar on list pages
(the breadcrumbs and the home page lead everywhere), dates in the short format, long titles
wrapping in a readable column (``static/admin/quartier/lists.css``).

``tests/admin/test_list_widths.py`` opens the works, events and notifications lists in a
1366 px browser window and checks that no column is cut off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.html import format_html


def short_datetime(field: str, description: Any) -> Callable[[Any, Any], str]:
    """A list column showing ``field`` as ``SHORT_DATETIME_FORMAT`` ("10/12/2026 12:33"),
    sortable by the field."""

    @admin.display(description=description, ordering=field)
    def column(self: Any, obj: Any) -> str:
        value = getattr(obj, field)
        if value is None:
            return "—"
        text = formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        return format_html('<span class="field-short-date">{}</span>', text)

    column.__name__ = f"{field}_short"
    return column


class FittingListMixin:
    """ModelAdmin mixin: the list page without the navigation sidebar, with the list styles."""

    @property
    def media(self) -> forms.Media:
        return super().media + forms.Media(css={"all": ["admin/quartier/lists.css"]})  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "is_nav_sidebar_enabled": False}
        return super().changelist_view(request, extra_context)  # type: ignore[misc]
