"""Routes of the roadworks API."""

from rest_framework.routers import SimpleRouter

from apps.works.api.views import WorksViewSet

router = SimpleRouter()
router.register("works", WorksViewSet, basename="works")
urlpatterns = router.urls
