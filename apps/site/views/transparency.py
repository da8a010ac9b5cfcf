"""``/transparence/classement/``: how the feed ranks, as a web page in French (default) or
English (``?lang=en``), no JavaScript; the same notice as ``/api/v1/transparency/ranking/``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from apps.recommend.selectors import ranking_notice

LANGUAGES = ("fr", "en")


@require_safe
@cache_control(public=True, max_age=300)
def ranking_notice_page(request: HttpRequest) -> HttpResponse:
    language = request.GET.get("lang", "fr")
    if language not in LANGUAGES or set(request.GET) - {"lang"}:
        return HttpResponseBadRequest(
            "Paramètre : lang (fr, en). / Parameter: lang (fr, en).",
            content_type="text/plain; charset=utf-8",
        )
    notice = ranking_notice()
    trained_at = (notice.model or {}).get("trained_at")
    with translation.override(language):
        return render(
            request,
            "site/ranking_notice.html",
            {
                "notice": notice,
                "trained_at": parse_datetime(trained_at) if trained_at else None,
                "language": language,
                "other_language": "en" if language == "fr" else "fr",
            },
        )
