"""What every site response shares: languages, addresses, security headers, bad parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.core.pages import page_path

#: The site's languages: French at the root, English under ``/en/`` (docs/interop.md).
LANGUAGES = ("fr", "en")
#: Open Graph locales of the languages.
OG_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
#: Longest comma list a filter parameter takes (slugs): bounded queries and cache keys.
MAX_FILTER_VALUES = 20


def site_path(name: str, *, language: str, **kwargs: Any) -> str:
    """The path of a named site route in ``language`` (``/en/…`` for English)."""
    path = reverse(f"site:{name}", kwargs=kwargs or None)
    return path if language == settings.LANGUAGE_CODE else f"/{language}{path}"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def item_paths(item: Any) -> dict[str, str]:
    """The item's page path in every language."""
    title_fr = getattr(item, "title_fr", None) or item.title
    return {code: page_path(item.type_code, item.pk, title_fr, language=code) for code in LANGUAGES}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(
    *, frame_ancestors: Iterable[str] = ("'none'",), frames: bool = False
) -> str:
    """No script at all, styles and images from this site (and the media host) only."""
    images = ["'self'", "data:"]
    media_origin = _origin(settings.MEDIA_URL)
    if media_origin:
        images.append(media_origin)
    return "; ".join(
        [
            "default-src 'none'",
            f"img-src {' '.join(images)}",
            "style-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {' '.join(frame_ancestors)}",
            *(["frame-src 'self'"] if frames else []),
        ]
    )


def protect(
    response: HttpResponseBase, *, embeddable: bool = False, frames: bool = False
) -> HttpResponseBase:
    """Security headers: CSP everywhere; only widgets may be framed, by the listed origins."""
    if embeddable:
        ancestors = ["'self'", *settings.SITE_WIDGET_ORIGINS]
        response["Content-Security-Policy"] = content_security_policy(frame_ancestors=ancestors)
        # X-Frame-Options cannot list origins: the CSP above governs framing instead.
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
    else:
        response["Content-Security-Policy"] = content_security_policy(frames=frames)
        response["X-Frame-Options"] = "DENY"
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


class BadParametersError(Exception):
    """A query parameter the route does not know, or a value it cannot take."""


def slug_list(value: str, *, name: str) -> list[str]:
    slugs = sorted({part.strip() for part in value.split(",") if part.strip()})
    if len(slugs) > MAX_FILTER_VALUES:
        raise BadParametersError(
            _("%(name)s : au plus %(count)d valeurs.") % {"name": name, "count": MAX_FILTER_VALUES}
        )
    for slug in slugs:
        if len(slug) > 80 or not slug.replace("-", "").replace("_", "").isalnum():
            raise BadParametersError(_("%(name)s : identifiant invalide.") % {"name": name})
    return slugs


def check_known(request: HttpRequest, known: Mapping[str, Any]) -> None:
    unknown = sorted(set(request.GET) - set(known))
    if unknown:
        raise BadParametersError(
            _("Paramètre inconnu : %(names)s. Paramètres possibles : %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(sorted(known)) or "-"}
        )
    for name in known:
        if len(request.GET.getlist(name)) > 1:
            raise BadParametersError(_("%(name)s : une seule fois.") % {"name": name})


def bad_request(message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")
    protect(response)
    return response
