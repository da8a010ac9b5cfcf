"""The site's home: the latest news, the works in progress and the next events, as links.

A way in for visitors and crawlers (every public page is two clicks away through the feeds),
the target of the kind 404/410 pages, and the place that lists the feeds and widgets.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.pages import item_page_url
from apps.site import selectors
from apps.site.pagecache import Built, cached
from apps.site.views.pages import PAGE_CACHE_CONTROL
from apps.site.web import LANGUAGES, absolute, protect, site_path

#: Items per section of the home page.
SECTION_SIZE = 6


def home(request: HttpRequest, language: str) -> HttpResponseBase:
    with translation.override(language):
        response = cached(
            request,
            scopes=selectors.TYPE_CODES,
            key=[language, "home"],
            build=lambda: _build(request, language),
            cache_control=PAGE_CACHE_CONTROL,
        )
        response["Content-Language"] = language
    return protect(response)


def _links(items: list[Any], language: str) -> list[tuple[Any, str]]:
    return [(item, item_page_url(item, language=language)) for item in items]


def _build(request: HttpRequest, language: str) -> Built:
    news = selectors.feed_items(("news",), categories=(), areas=(), limit=SECTION_SIZE)
    works = selectors.works_items(areas=(), limit=SECTION_SIZE)
    events = selectors.agenda_items(categories=(), areas=(), limit=SECTION_SIZE)
    sections = [
        (_("Actualités"), "news", _links(news, language), _("Aucune actualité.")),
        (
            _("Travaux en cours et à venir"),
            "works",
            _links(works, language),
            _("Aucun chantier en cours."),
        ),
        (
            _("Prochains événements"),
            "events",
            _links(events, language),
            _("Aucun événement à venir."),
        ),
    ]
    feeds = [
        (title, absolute(site_path("feed", language=language, scope=scope)))
        for scope, title in (
            ("all", _("Tout")),
            ("news", _("Actualités")),
            ("works", _("Travaux")),
            ("events", _("Événements")),
        )
    ]
    body = render_to_string(
        "site/home.html",
        {
            "language": language,
            "page_title": settings.SITE_NAME,
            "sections": sections,
            "feeds": feeds,
            "widgets_url": site_path("widgets", language=language),
            "alternates": {code: absolute(site_path("home", language=code)) for code in LANGUAGES},
        },
        request=request,
    )
    return Built(body, changes_at=selectors.changes_at([*news, *works, *events]))
