"""``/transparence/notifications/``: the public register of pushes as a web page, in French
(default) or English (``?lang=en``), no JavaScript, 50 pushes a page."""

from __future__ import annotations

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from apps.notifications.transparency import register_entries, register_notifications

PAGE_SIZE = 50
LANGUAGES = ("fr", "en")


@require_safe
@cache_control(public=True, max_age=300)
def notification_register_page(request: HttpRequest) -> HttpResponse:
    language = request.GET.get("lang", "fr")
    unknown = set(request.GET) - {"lang", "page"}
    if language not in LANGUAGES or unknown:
        return HttpResponseBadRequest(
            "Paramètres : lang (fr, en) et page. / Parameters: lang (fr, en) and page.",
            content_type="text/plain; charset=utf-8",
        )
    paginator = Paginator(register_notifications(), PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page", 1))
    except (PageNotAnInteger, EmptyPage):
        return HttpResponseBadRequest(
            "Page inconnue. / Unknown page.", content_type="text/plain; charset=utf-8"
        )
    with translation.override(language):
        return render(
            request,
            "notifications/register.html",
            {
                "entries": register_entries(list(page.object_list)),
                "page": page,
                "language": language,
                "other_language": "en" if language == "fr" else "fr",
            },
        )
