"""Writes on news: save an article with its links."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from apps.core.services import content_save
from apps.news.models import News, NewsLink


@transaction.atomic
def news_save(
    *, news: News, links: Iterable[NewsLink] | None = None, user: Any = None
) -> list[str]:
    """Save an article (see ``content_save``); ``links`` replaces its links when given."""
    changes = content_save(item=news, user=user)
    if links is not None:
        news.links.all().delete()
        for position, link in enumerate(links):
            link.news = news
            link.position = position
            link.full_clean()
            link.save()
    return changes
