"""Embeddable widgets for the city's website: agenda list, works map, alert banner.

A webmaster pastes ``<iframe src="{SITE_URL}/widgets/agenda/?category=culture">`` (the code is
on ``/widgets/`` and in docs/editor-guide.md). A widget is a small HTML page with no script
at all: plain links that open the item's page in the whole window (``target="_top"``), so it
still works as a list of links without styles or frames. Only widget pages may be framed, and
only by ``SITE_WIDGET_ORIGINS`` (CSP ``frame-ancestors``); they are cached on the server
(``apps.site.pagecache``) and ``SITE_EMBED_MAX_AGE_S`` seconds by browsers, with an ETag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.pages import item_page_url
from apps.site import maps, selectors
from apps.site.pagecache import Built, cached
from apps.site.views.feeds import filters_from
from apps.site.web import (
    LANGUAGES,
    BadParametersError,
    absolute,
    bad_request,
    check_known,
    protect,
    site_path,
    slug_list,
)

DEFAULT_LIMIT = 10
MAX_LIMIT = 30


def _limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit", "")
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadParametersError(_("limit : un nombre entier de 1 à %d.") % MAX_LIMIT)
    return int(raw)


def _widget(
    request: HttpRequest,
    *,
    name: str,
    language: str,
    parse: Callable[[HttpRequest], dict[str, Any]],
    build: Callable[[dict[str, Any]], Built],
) -> HttpResponseBase:
    with translation.override(language):
        try:
            options = parse(request)
        except BadParametersError as error:
            return bad_request(str(error))
        response = cached(
            request,
            scopes=selectors.TYPE_CODES,
            key=[language, name, sorted(options.items())],
            build=lambda: build(options),
            cache_control=f"public, max-age={settings.SITE_EMBED_MAX_AGE_S}",
        )
        response["Content-Language"] = language
    return protect(response, embeddable=True)


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> str:
    context.setdefault("site_name", settings.SITE_NAME)
    return render_to_string(template, context, request=request)


def _links(items: list[Any], language: str) -> dict[int, str]:
    return {item.pk: item_page_url(item, language=language) for item in items}


def _entries(items: list[Any], language: str) -> list[tuple[Any, str]]:
    """(item, page URL) pairs for a template."""
    return [(item, item_page_url(item, language=language)) for item in items]


# --- Agenda -----------------------------------------------------------------------------------


def _agenda_options(request: HttpRequest) -> dict[str, Any]:
    categories, areas = filters_from(request, extra=("limit",))
    return {"categories": categories, "areas": areas, "limit": _limit(request)}


def agenda(request: HttpRequest, language: str) -> HttpResponseBase:
    def build(options: dict[str, Any]) -> Built:
        items = selectors.agenda_items(
            categories=options["categories"], areas=options["areas"], limit=options["limit"]
        )
        body = _render(
            request,
            "site/widget_agenda.html",
            {
                "language": language,
                "page_title": _("Agenda"),
                "entries": _entries(items, language),
                "feed_url": absolute(site_path("feed", language=language, scope="events")),
            },
        )
        return Built(body, changes_at=selectors.changes_at(items))

    return _widget(request, name="agenda", language=language, parse=_agenda_options, build=build)


# --- Works map --------------------------------------------------------------------------------


def _works_options(request: HttpRequest) -> dict[str, Any]:
    check_known(request, dict.fromkeys(("area", "limit")))
    areas = slug_list(request.GET.get("area", ""), name="area")
    if areas and set(areas) - set(selectors.areas_by_slug(areas)):
        raise BadParametersError(_("Quartier inconnu : %s.") % ", ".join(areas))
    return {"areas": areas, "limit": _limit(request)}


def works_map(request: HttpRequest, language: str) -> HttpResponseBase:
    def build(options: dict[str, Any]) -> Built:
        items = selectors.works_items(areas=options["areas"], limit=options["limit"])
        links = _links(items, language)
        title = _("Carte des travaux")
        body = _render(
            request,
            "site/widget_works.html",
            {
                "language": language,
                "page_title": title,
                "entries": [(item, links[item.pk]) for item in items],
                "map_svg": maps.works_svg(items, links, title=title),
            },
        )
        return Built(body, changes_at=selectors.changes_at(items))

    return _widget(request, name="works", language=language, parse=_works_options, build=build)


# --- Alert banner -----------------------------------------------------------------------------


def _alerts_options(request: HttpRequest) -> dict[str, Any]:
    check_known(request, dict.fromkeys(("level", "area")))
    level = request.GET.get("level", "alert")
    if level not in selectors.URGENCY_MINIMUM:
        raise BadParametersError(_("level : « alert » ou « important »."))
    areas = slug_list(request.GET.get("area", ""), name="area")
    if areas and set(areas) - set(selectors.areas_by_slug(areas)):
        raise BadParametersError(_("Quartier inconnu : %s.") % ", ".join(areas))
    return {"level": level, "areas": areas}


def alerts(request: HttpRequest, language: str) -> HttpResponseBase:
    def build(options: dict[str, Any]) -> Built:
        items = selectors.alert_items(
            minimum=selectors.URGENCY_MINIMUM[options["level"]], areas=options["areas"], limit=3
        )
        body = _render(
            request,
            "site/widget_alerts.html",
            {
                "language": language,
                "page_title": _("Alertes"),
                "entries": _entries(items, language),
            },
        )
        return Built(body, changes_at=selectors.changes_at(items))

    return _widget(request, name="alerts", language=language, parse=_alerts_options, build=build)


# --- The code to paste ------------------------------------------------------------------------


def widget_index(request: HttpRequest, language: str) -> HttpResponseBase:
    """The widgets with the code a webmaster pastes, each shown live."""
    with translation.override(language):
        check = request.GET.keys()
        if check:
            return bad_request(_("Cette page ne prend aucun paramètre."))
        widgets = [
            (_("Agenda"), absolute(site_path("widget-agenda", language=language)), 480),
            (_("Carte des travaux"), absolute(site_path("widget-works", language=language)), 640),
            (_("Bandeau d'alerte"), absolute(site_path("widget-alerts", language=language)), 80),
        ]
        response = render(
            request,
            "site/widgets.html",
            {
                "language": language,
                "page_title": _("Widgets à intégrer"),
                "site_name": settings.SITE_NAME,
                "widgets": widgets,
                "alternates": {
                    code: absolute(site_path("widgets", language=code)) for code in LANGUAGES
                },
            },
        )
        response["Content-Language"] = language
    # The code page itself shows the widgets framed (same origin), but is not embeddable.
    return protect(response, frames=True)
