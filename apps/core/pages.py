"""The public web page of an item: ``{SITE_URL}/{type}/{id}-{slug}/`` (apps.site serves it).

The slug is Django's ``slugify`` of the French title, cut at ``SLUG_MAX_LENGTH`` characters on
a word boundary; a title with nothing to slugify gives the type code. The page redirects (301)
any other slug to this one, so a link stays good after the title changes. Core builds the
address itself (the API's ``share_url``, iCalendar's ``URL``) because it never imports
``apps.site``; ``tests/site/test_pages.py`` pins both to the same routes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.text import slugify

#: Slugs longer than this are cut on a hyphen: a share link stays readable in a message.
SLUG_MAX_LENGTH = 80


def page_slug(title: str | None, type_code: str) -> str:
    """The slug of a French title (``"Fête de la musique"`` → ``"fete-de-la-musique"``)."""
    slug = slugify(title or "")
    if len(slug) > SLUG_MAX_LENGTH:
        slug = slug[: SLUG_MAX_LENGTH + 1].rsplit("-", 1)[0] or slug[:SLUG_MAX_LENGTH]
    return slug.strip("-") or type_code


def page_path(type_code: str, pk: int, title_fr: str | None, *, language: str = "fr") -> str:
    """The site-relative path of an item's page; English pages live under ``/en/``."""
    prefix = "" if language == settings.LANGUAGE_CODE else f"/{language}"
    return f"{prefix}/{type_code}/{pk}-{page_slug(title_fr, type_code)}/"


def item_page_url(item: Any, *, language: str = "fr") -> str:
    """The absolute URL of an item's public page: what the apps share."""
    title_fr = getattr(item, "title_fr", None) or item.title
    return settings.SITE_URL + page_path(item.type_code, item.pk, title_fr, language=language)
