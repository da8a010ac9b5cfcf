"""Atom feeds of the public items, per type and filter, built with feedgen.

``/feeds/{all|news|works|events}.atom?category=a,b&area=c`` (``/en/feeds/…`` in English):
the latest ``FEED_SIZE`` public items, newest first, each linking to its page. An unknown
parameter or slug is a 400 with a French message; responses are cached like the pages and
may be kept ``SITE_EMBED_MAX_AGE_S`` seconds by readers and proxies.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from feedgen.feed import FeedGenerator

from apps.core.pages import item_page_url
from apps.site import selectors
from apps.site.pagecache import Built, cached
from apps.site.web import (
    BadParametersError,
    absolute,
    bad_request,
    check_known,
    protect,
    site_path,
    slug_list,
)

FEED_SIZE = 50
FEED_PARAMETERS = ("category", "area")


def feed_titles() -> dict[str, str]:
    return {
        "all": _("Actualités, travaux et événements"),
        "news": _("Actualités"),
        "works": _("Travaux"),
        "events": _("Événements"),
    }


def filters_from(
    request: HttpRequest, *, extra: tuple[str, ...] = ()
) -> tuple[list[str], list[str]]:
    """``category`` and ``area`` slugs, checked to exist (400 otherwise); ``extra``: other
    parameters the route takes."""
    check_known(request, dict.fromkeys((*FEED_PARAMETERS, *extra)))
    categories = slug_list(request.GET.get("category", ""), name="category")
    areas = slug_list(request.GET.get("area", ""), name="area")
    if categories:
        unknown = set(categories) - set(selectors.categories_by_slug(categories))
        if unknown:
            raise BadParametersError(_("Catégorie inconnue : %s.") % ", ".join(sorted(unknown)))
    if areas:
        unknown = set(areas) - set(selectors.areas_by_slug(areas))
        if unknown:
            raise BadParametersError(_("Quartier inconnu : %s.") % ", ".join(sorted(unknown)))
    return categories, areas


def atom_feed(request: HttpRequest, scope: str, language: str) -> HttpResponseBase:
    with translation.override(language):
        try:
            categories, areas = filters_from(request)
        except BadParametersError as error:
            return bad_request(str(error))
        response = cached(
            request,
            scopes=selectors.TYPE_CODES,
            key=[language, "atom", categories, areas],
            build=lambda: _build(scope, categories, areas, language),
            cache_control=f"public, max-age={settings.SITE_EMBED_MAX_AGE_S}",
        )
    return protect(response)


def _build(scope: str, categories: list[str], areas: list[str], language: str) -> Built:
    type_codes = selectors.TYPE_CODES if scope == "all" else (scope,)
    items = selectors.feed_items(type_codes, categories=categories, areas=areas, limit=FEED_SIZE)
    query = "&".join(
        f"{name}={','.join(values)}"
        for name, values in (("category", categories), ("area", areas))
        if values
    )
    self_url = absolute(site_path("feed", language=language, scope=scope)) + (
        f"?{query}" if query else ""
    )
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(f"{settings.SITE_NAME} · {feed_titles()[scope]}")
    feed.subtitle(_("Les derniers contenus publiés par la ville."))
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=settings.SITE_URL + "/", rel="alternate", type="text/html")
    feed.language(language)
    feed.author({"name": settings.SITE_NAME})
    feed.generator("Quartier")
    feed.updated(max((item.updated_at for item in items), default=timezone.now()))
    for item in reversed(items):  # feedgen puts each new entry first
        url = item_page_url(item, language=language)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(item.title)
        entry.link(href=url, rel="alternate", type="text/html", hreflang=language)
        entry.summary(item.summary or item.title)
        entry.published(item.published_at or item.publish_at or item.created_at)
        entry.updated(item.updated_at)
        entry.author({"name": item.organization.name})
        entry.category(term=item.category.slug, label=str(item.category.name))
    return Built(
        feed.atom_str(pretty=False),
        content_type="application/atom+xml; charset=utf-8",
        changes_at=selectors.changes_at(items),
    )
