"""Page-number pagination for lists: correct ``count``, ``page_size`` up to 100."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class CountedPaginator(Paginator):
    """A Django paginator told its ``count`` (already computed with the ETag's query)."""

    def __init__(self, *args: Any, count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__["count"] = count


class ListPagination(PageNumberPagination):
    """``?page=N&page_size=M``; lists are ordered with ``id`` as the last key, so stable."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class: Any = Paginator

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None, *, count: int | None = None
    ) -> list[Any] | None:
        """As DRF's; a known ``count`` saves the ``COUNT(*)`` query."""
        self.django_paginator_class = (
            partial(CountedPaginator, count=count) if count is not None else Paginator
        )
        return super().paginate_queryset(queryset, request, view)
