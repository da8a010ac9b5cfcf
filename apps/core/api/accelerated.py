"""A faster answer to a content list, when some app can give one (the item index, issue 13).

``ContentViewSet.list`` asks ``list_accelerated(view, request)`` after its response cache
and before it builds the FilterSet and the list SQL. An *accelerator* is a function of the
view and the request that returns the same response the SQL path would (bytes, headers,
validators, 304) or ``None`` when it cannot answer this request exactly (a filter it does
not know, a stale index, a parameter to reject): the SQL path then answers, so an
accelerator changes only the cost of a response, never the response.

``apps.recommend`` registers the item index's (``apps.recommend.online.index_lists``): the
index lives there because the feed built it first, and apps.core may not import apps above
it (architecture.md §2), hence this registry. ``API_LIST_ACCELERATION`` turns it off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

Accelerator = Callable[[Any, Any], Any]

_accelerators: list[Accelerator] = []


def list_accelerator_register(accelerator: Accelerator) -> None:
    """Ask ``accelerator(view, request)`` first for content lists (once per function)."""
    if accelerator not in _accelerators:
        _accelerators.append(accelerator)


def list_accelerated(view: Any, request: Any) -> Any:
    """The first accelerator's response to this list request, or ``None``."""
    if not getattr(settings, "API_LIST_ACCELERATION", True):
        return None
    for accelerator in _accelerators:
        response = accelerator(view, request)
        if response is not None:
            return response
    return None
