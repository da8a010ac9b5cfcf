"""Routes of the events API (with the iCalendar feeds)."""

from rest_framework.routers import SimpleRouter

from apps.events.api.views import EventViewSet

router = SimpleRouter()
router.register("events", EventViewSet, basename="events")
urlpatterns = router.urls
