"""URL configuration: admin, API v1 (with its schema and docs)."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.views import HealthView

api_v1 = [
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
    path("", include("apps.benchcity.urls")),
    path("", include("apps.interop.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "apps.core.api.errors.json_not_found"
handler500 = "apps.core.api.errors.json_server_error"
