"""Filters of the news list: the content filters and news' orderings."""

from __future__ import annotations

from apps.core.api.filters import ContentFilterSet, ordering_filter
from apps.news.models import News


class NewsFilterSet(ContentFilterSet):
    ordering = ordering_filter(["publish_at", "updated_at", "distance"], "-publish_at")

    class Meta(ContentFilterSet.Meta):
        model = News
