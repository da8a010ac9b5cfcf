"""Uploaded media as Django serves them (``make run``, demo): the same headers as the proxy.

Uploads come from staff and may have been crafted; a browser must never run them on the
admin's origin. Every file gets ``nosniff`` and a sandbox CSP (no script, no same-origin
rights even if opened directly); only images are shown in place, everything else is a
download (``Content-Disposition: attachment``); a name outside the types Quartier stores is
served as ``application/octet-stream``. Production serves ``MEDIA_ROOT`` from the proxy with
the same headers (docs/deploy.md, "Media").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, re_path
from django.utils.http import content_disposition_header
from django.views.static import serve

#: Shown in place by the browser (and by the app, in ``<img>``).
INLINE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
#: Downloaded: the documents an attachment may be (``apps.news.attachments``).
DOWNLOAD_TYPES = {
    "pdf": "application/pdf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "odg": "application/vnd.oasis.opendocument.graphics",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
MEDIA_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def media_headers(response: HttpResponseBase, path: str) -> HttpResponseBase:
    """Set the safe-serving headers of the media file at ``path`` on ``response``."""
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    if extension in INLINE_TYPES:
        response["Content-Type"] = INLINE_TYPES[extension]
        return response
    response["Content-Type"] = DOWNLOAD_TYPES.get(extension, "application/octet-stream")
    name = path.rsplit("/", 1)[-1]
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    return response


def media_serve(request: HttpRequest, path: str) -> Any:
    """``django.views.static.serve`` of ``MEDIA_ROOT`` plus ``media_headers``."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    return media_headers(response, path)


def media_urlpatterns() -> list[URLPattern]:
    """The route serving ``MEDIA_ROOT`` at ``MEDIA_URL`` (debug and demo only)."""
    prefix = settings.MEDIA_URL.lstrip("/")
    return [re_path(rf"^{prefix}(?P<path>.*)$", media_serve)]
