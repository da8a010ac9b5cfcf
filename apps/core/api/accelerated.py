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
#: The cache keys an accelerator reads first for a request (``list_accelerated_reads``).
Reads = Callable[[Any, Any], list[str]]

_accelerators: list[Accelerator] = []
_reads: dict[Accelerator, Reads] = {}


def list_accelerator_register(accelerator: Accelerator, *, reads: Reads | None = None) -> None:
    """Ask ``accelerator(view, request)`` first for content lists (once per function).
    ``reads(view, request)``: the cache keys it reads first, which the view's throttle reads
    in its own round trip (``request.cache_read_first``, ``apps.core.api.throttles``)."""
    if accelerator not in _accelerators:
        _accelerators.append(accelerator)
    if reads is not None:
        _reads[accelerator] = reads


def list_accelerated_reads(view: Any, request: Any) -> list[str]:
    """The cache keys the accelerators read first for this list request."""
    if not getattr(settings, "API_LIST_ACCELERATION", True):
        return []
    return [key for a in _accelerators if a in _reads for key in _reads[a](view, request)]


def list_accelerated(view: Any, request: Any) -> Any:
    """The first accelerator's response to this list request, or ``None``."""
    if not getattr(settings, "API_LIST_ACCELERATION", True):
        return None
    for accelerator in _accelerators:
        response = accelerator(view, request)
        if response is not None:
            return response
    return None
