"""Reads of news: the public lists and details the API serves."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.core.selectors import LIST_DEFERRED
from apps.news.models import News, NewsAttachment


def news_list() -> QuerySet[News]:
    """Public news with what a list item shows (category, organization): no query per row.

    The bodies are not loaded (``LIST_DEFERRED``): list items never show them, and they are
    most of a row's bytes. Read them from ``news_detail()``.
    """
    return News.objects.public().select_related("category", "organization").defer(*LIST_DEFERRED)


def news_detail() -> QuerySet[News]:
    """Public news, every column, with areas, links and attachments prefetched.

    Only attachments whose content passed the type check are listed (``safe()``): a file
    stored before the check, or refused by it, stays unpublished until an editor replaces it.
    """
    return (
        news_list()
        .defer(None)
        .prefetch_related(
            "areas", "links", Prefetch("attachments", queryset=NewsAttachment.objects.safe())
        )
    )
