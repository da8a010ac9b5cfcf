"""App links: ``/.well-known/assetlinks.json`` (Android) and ``apple-app-site-association`` (iOS).

Built from settings (``SITE_ANDROID_PACKAGE`` with ``SITE_ANDROID_CERT_FINGERPRINTS``,
``SITE_IOS_APP_IDS``), so that a tapped page link opens the city's app when it is installed.
Both are JSON served straight (no redirect, as the platforms require); 404 when not configured.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

#: The paths the app handles: every item page, in both languages.
APP_PATHS = ("/news/*", "/works/*", "/events/*", "/en/news/*", "/en/works/*", "/en/events/*")


def _json(data: object) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


def assetlinks(request: HttpRequest) -> HttpResponse:
    if not settings.SITE_ANDROID_PACKAGE or not settings.SITE_ANDROID_CERT_FINGERPRINTS:
        raise Http404("no Android app configured")
    return _json(
        [
            {
                "relation": ["delegate_permission/common.handle_all_urls"],
                "target": {
                    "namespace": "android_app",
                    "package_name": settings.SITE_ANDROID_PACKAGE,
                    "sha256_cert_fingerprints": settings.SITE_ANDROID_CERT_FINGERPRINTS,
                },
            }
        ]
    )


def apple_app_site_association(request: HttpRequest) -> HttpResponse:
    if not settings.SITE_IOS_APP_IDS:
        raise Http404("no iOS app configured")
    return _json(
        {
            "applinks": {
                # iOS 13+ reads appIDs/components; older versions read apps/appID/paths.
                "apps": [],
                "details": [
                    {
                        "appIDs": settings.SITE_IOS_APP_IDS,
                        "components": [{"/": path} for path in APP_PATHS],
                    },
                    *(
                        {"appID": app_id, "paths": list(APP_PATHS)}
                        for app_id in settings.SITE_IOS_APP_IDS
                    ),
                ],
            }
        }
    )
