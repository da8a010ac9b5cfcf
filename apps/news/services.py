"""Writes on news: apply a write (API, admin), save an article with its links."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from apps.core.audit.actors import with_user
from apps.core.models import Organization
from apps.core.services import CONTENT_FIELDS, content_apply, content_save
from apps.news.models import News, NewsLink

#: Columns a news write copies as given (the base's: news adds only its links).
NEWS_FIELDS: tuple[str, ...] = CONTENT_FIELDS


@transaction.atomic
def news_save(
    *, news: News, links: Iterable[NewsLink] | None = None, user: Any = None
) -> list[str]:
    """Save an article (see ``content_save``); ``links`` replaces its links when given."""
    changes = content_save(item=news, user=user)
    if links is not None:
        for old in news.links.all():
            with_user(old, user).delete()
        for position, link in enumerate(links):
            link.news = news
            link.position = position
            link.full_clean()
            with_user(link, user).save()
    return changes


@transaction.atomic
def news_apply(
    *,
    news: News | None = None,
    data: Mapping[str, Any],
    organization: Organization | None = None,
    user: Any = None,
) -> News:
    """Create (``news=None``) or update an article from validated ``data`` (``content_apply``).

    ``data["links"]``, a list of ``{title_fr, title_en?, url}``, replaces the links in that
    order; without it the links are kept.
    """
    values = dict(data)
    links = values.pop("links", None)
    rows = None if links is None else [NewsLink(**link) for link in links]
    item = news if news is not None else News()
    content_apply(
        item=item,
        data=values,
        organization=organization,
        user=user,
        fields=NEWS_FIELDS,
        save=lambda _saved: news_save(news=item, links=rows, user=user),
    )
    return item
