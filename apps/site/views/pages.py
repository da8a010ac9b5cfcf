"""The public page of an item, its map picture, and the kind 404/410 pages.

``/{news|works|events}/{id}-{slug}/`` in French, ``/en/…`` in English. A wrong or missing slug
redirects (301) to the canonical one; a draft or scheduled item is a 404 and an archived,
expired, ended, withdrawn or deleted one a 410, both with a kind page and never the item's
content. Pages are cached (``apps.site.pagecache``) and revalidated with their ETag.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.core.pages import item_page_url
from apps.site import jsonld, maps
from apps.site.pagecache import Built, cached
from apps.site.selectors import TYPE_CODES, PageState, changes_at, page_item, related
from apps.site.web import (
    LANGUAGES,
    OG_LOCALES,
    absolute,
    item_paths,
    protect,
    site_path,
)

#: Pages are kept by browsers and proxies but revalidated (a withdrawal shows at once).
PAGE_CACHE_CONTROL = "public, no-cache"
#: Upcoming dates an event page lists.
MAX_DATES = 12
DESCRIPTION_MAX = 200


def item_page(
    request: HttpRequest, type_code: str, pk: str, language: str, slug: str | None = None
) -> HttpResponseBase:
    with translation.override(language):
        response = cached(
            request,
            scopes=TYPE_CODES,  # the related items may be of any type
            key=[language, "page"],
            build=lambda: _build_page(request, type_code, int(pk), slug, language),
            cache_control=PAGE_CACHE_CONTROL,
        )
        response["Content-Language"] = language
    return protect(response)


def item_map(request: HttpRequest, type_code: str, pk: str, language: str) -> HttpResponseBase:
    """The link preview's picture: the map of the item with its title (PNG)."""
    with translation.override(language):
        response = cached(
            request,
            scopes=[type_code],
            key=[language, "png"],
            build=lambda: _build_png(request, type_code, int(pk), language),
            cache_control=PAGE_CACHE_CONTROL,
        )
    return protect(response)


def _build_png(request: HttpRequest, type_code: str, pk: int, language: str) -> Built:
    item, state = page_item(type_code, pk)
    picture = maps.item_png(item) if item is not None else None
    if item is None or picture is None:
        return gone_or_missing(request, PageState.MISSING if item else state, language)
    return Built(picture, content_type="image/png", changes_at=changes_at([item]))


def gone_or_missing(request: HttpRequest, state: PageState, language: str) -> Built:
    """The kind page: 410 for what was public, 404 for what never was (drafts, unknown ids)."""
    gone = state is PageState.GONE
    body = render_to_string(
        "site/gone.html",
        {
            "gone": gone,
            "language": language,
            "page_title": _("Contenu retiré") if gone else _("Page introuvable"),
            "alternates": {},
            "site_name": settings.SITE_NAME,
        },
        request=request,
    )
    return Built(body, status=410 if gone else 404)


def _description(item: Any) -> str:
    text = (item.summary or item.body or item.title).strip()
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


def _image(item: Any, type_code: str, language: str) -> tuple[str | None, str, tuple | None]:
    """The preview image: the item's own, else its map (URL, alternative text, size)."""
    if item.image:
        return absolute(item.image.url), item.image_alt or item.title, None
    if item.geometry is None and maps.item_frame(item, maps.PREVIEW_SIZE) is None:
        return None, "", None
    path = site_path("map", language=language, type_code=type_code, pk=item.pk)
    return absolute(path), maps.describe(item), maps.PREVIEW_SIZE


def _event_dates(event: Any) -> tuple[list[Any], datetime, datetime]:
    now = timezone.now()
    upcoming = sorted(
        (o for o in event.occurrences.all() if o.end_at > now), key=lambda o: o.start_at
    )
    first = upcoming[0] if upcoming else None
    start = first.start_at if first else event.start_at
    end = first.end_at if first else event.end_at
    return upcoming[:MAX_DATES], start, end


def _build_page(
    request: HttpRequest, type_code: str, pk: int, slug: str | None, language: str
) -> Built:
    item, state = page_item(type_code, pk)
    if item is None:
        return gone_or_missing(request, state, language)
    paths = item_paths(item)
    if request.path != paths[language]:  # another slug, none, or an id with leading zeros
        return Built(b"", status=301, headers={"Location": paths[language]})
    url = absolute(paths[language])
    image_url, image_alt, image_size = _image(item, type_code, language)
    context: dict[str, Any] = {
        "item": item,
        "type_code": type_code,
        "language": language,
        "page_title": item.title,
        "site_name": settings.SITE_NAME,
        "canonical": url,
        "alternates": {code: absolute(paths[code]) for code in LANGUAGES},
        "description": _description(item),
        "og_type": "article" if type_code == "news" else "website",
        "og_locale": OG_LOCALES[language],
        "og_locale_alternates": [OG_LOCALES[code] for code in LANGUAGES if code != language],
        "image_url": image_url,
        "image_alt": image_alt,
        "image_size": image_size,
        "map_svg": maps.item_svg(item),
        "ios_app_store_id": settings.SITE_IOS_APP_STORE_ID,
        "areas": list(item.areas.all()),
    }
    see_also = related(item, language)
    context["related"] = [
        (entry.item, item_page_url(entry.item, language=language), entry.reasons)
        for entry in see_also
    ]
    if type_code == "news":
        data = jsonld.news_article(item, url=url, image_url=image_url, language=language)
    elif type_code == "works":
        data = jsonld.works_announcement(item, url=url, image_url=image_url, language=language)
    else:
        dates, start, end = _event_dates(item)
        context["dates"] = dates
        context["ical_url"] = absolute(reverse("events-ical-item", args=[item.pk]))
        data = jsonld.event(
            item, url=url, image_url=image_url, language=language, start_at=start, end_at=end
        )
    context["jsonld"] = jsonld.dumps(data)
    body = render_to_string(f"site/{type_code}.html", context, request=request)
    return Built(body, changes_at=changes_at([item, *(entry.item for entry in see_also)]))
