"""Page-number pagination for lists: correct ``count``, ``page_size`` up to 100, both checked."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from apps.core.api.params import positive_int_param


class CountedPaginator(Paginator):
    """A Django paginator told its ``count`` (already computed with the ETag's query)."""

    def __init__(self, *args: Any, count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__["count"] = count


class ListPagination(PageNumberPagination):
    """``?page=N&page_size=M``; lists are ordered with ``id`` as the last key, so stable.

    ``page`` from 1 and ``page_size`` from 1 (at most 100): anything else is a 400, never
    ignored; a page past the end is a 404 (``Invalid page.``), as in DRF.
    """

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

    def page_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None, *, count: int
    ) -> QuerySet:
        """As ``paginate_queryset``, but the page as its sliced queryset, not yet run.

        For views that read the page's rows themselves (``ContentViewSet.list_spliced``).
        """
        self.request = request
        paginator = CountedPaginator(queryset, self.get_page_size(request), count=count)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            raise NotFound(
                self.invalid_page_message.format(page_number=page_number, message=str(exc))
            ) from None
        return self.page.object_list  # type: ignore[return-value]

    def get_page_size(self, request: Request) -> int:
        size = positive_int_param(request, self.page_size_query_param or "page_size")
        return self.page_size if size is None else min(size, self.max_page_size or size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return positive_int_param(request, self.page_query_param) or 1
