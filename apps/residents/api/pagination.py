"""Page-number pagination answering 400 to a malformed ``page`` or ``page_size`` (never ignored)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from apps.core.api.pagination import ListPagination


def _positive_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise ValidationError({name: [_("A positive integer.")]})
    return int(raw)


class StrictListPagination(ListPagination):
    """``ListPagination`` (``page`` from 1, ``page_size`` 1-100) with both validated.

    A page past the end is still a 404 (``Invalid page.``), as in DRF.
    """

    def get_page_size(self, request: Request) -> int:
        size = _positive_int(request, self.page_size_query_param or "page_size")
        return self.page_size if size is None else min(size, self.max_page_size or size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return _positive_int(request, self.page_query_param) or 1
