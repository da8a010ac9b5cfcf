"""The project's URLs plus the media route ``DJANGO_DEBUG`` turns on (the tests run with it off)."""

from apps.core.media import media_urlpatterns
from backend.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, *media_urlpatterns()]
