"""URL configuration: admin, API v1 (with its schema and docs)."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.media import media_urlpatterns
from apps.core.views import HealthView
from apps.interop.geocoding.views import staff_geocode, staff_streets_overlay
from apps.notifications.views import notification_register_page

api_v1: list[URLPattern | URLResolver] = [
    path("health/", HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("apps.residents.urls")),
    path("", include("apps.notifications.api.urls")),
    path("", include("apps.recommend.urls")),
    path("", include("apps.core.api.urls")),
    path("", include("apps.news.api.urls")),
    path("", include("apps.works.api.urls")),
    path("", include("apps.events.api.urls")),
    path("", include("apps.interop.api.urls")),
    path("", include("apps.alerts.urls")),
]

urlpatterns: list[URLPattern | URLResolver] = [
    # The second sign-in step (TOTP), before the admin's own catch-all.
    path("admin/mfa/", include("apps.core.admin.mfa")),
    # The map search box's geocoder (staff only; apps/interop/geocoding/views.py).
    path("admin/geocode/", admin.site.admin_view(staff_geocode), name="staff-geocode"),
    # The maps' overlays and reach without tiles (staff only; apps/core/admin/maps.py).
    path(
        "admin/map/streets.geojson",
        admin.site.admin_view(staff_streets_overlay),
        name="staff-map-streets",
    ),
    path("admin/map/", include("apps.core.admin.maps")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path(
        "transparence/notifications/",
        notification_register_page,
        name="transparency-notifications-page",
    ),
    # The public site: item pages, feeds, widgets, /.well-known/ (apps/site).
    path("", include("apps.site.urls")),
]
if settings.DEBUG:
    # Uploaded media with nosniff, a sandbox CSP and downloads for documents (apps.core.media).
    urlpatterns += media_urlpatterns()

handler404 = "apps.core.api.errors.json_not_found"
handler500 = "apps.core.api.errors.json_server_error"
