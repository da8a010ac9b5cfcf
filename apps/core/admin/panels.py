"""Extra panels on the change form of content, contributed by other apps.

The hook for the notifications app's *reach preview* ("about 1,240 devices"): it registers
a function that returns HTML for the item being edited, shown under the form's fields (the
``content_panels`` block of ``admin/quartier/content/change_form.html``)::

    from apps.core.admin.panels import register_change_form_panel

    @register_change_form_panel
    def reach_preview(request, obj, model):
        if obj is None or not obj.notify:
            return None
        return render_to_string("notifications/admin/reach.html", {...}, request=request)

``obj`` is ``None`` on the add form; ``model`` is the content model. Return ``None`` to show
nothing. Panels are rendered in registration order; a panel that raises is a bug (500).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[[HttpRequest, Any, type], "str | None"]

_panels: list[Panel] = []


def register_change_form_panel(panel: Panel) -> Panel:
    """Add ``panel`` to every content change form (idempotent); usable as a decorator."""
    if panel not in _panels:
        _panels.append(panel)
    return panel


def unregister_change_form_panel(panel: Panel) -> None:
    if panel in _panels:
        _panels.remove(panel)


def change_form_panels(request: HttpRequest, obj: Any, model: type) -> list[SafeString]:
    """The HTML of every registered panel for this item (panels returning ``None`` skipped)."""
    rendered = []
    for panel in _panels:
        html = panel(request, obj, model)
        if html:
            rendered.append(mark_safe(html))  # panels return HTML they rendered and escaped
    return rendered
