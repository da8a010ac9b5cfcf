"""URL configuration of the bench and test settings: production's, plus the diagnostics."""

from django.urls import include, path

from backend.urls import handler404, handler500
from backend.urls import urlpatterns as production_urlpatterns

# The reference endpoints of the load test (/api/v1/diagnostics/), never routed in production.
urlpatterns = [path("api/v1/", include("bench.city.urls")), *production_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
