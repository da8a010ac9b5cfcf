"""Reads of news: the public lists and details the API serves."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.news.models import News


def news_list() -> QuerySet[News]:
    """Public news with what a list item shows (category, organization): no query per row."""
    return News.objects.public().select_related("category", "organization")


def news_detail() -> QuerySet[News]:
    """Public news with areas, links and attachments prefetched."""
    return news_list().prefetch_related("areas", "links", "attachments")
