"""Routes of the news API."""

from rest_framework.routers import SimpleRouter

from apps.news.api.views import NewsViewSet

router = SimpleRouter()
router.register("news", NewsViewSet, basename="news")
urlpatterns = router.urls
