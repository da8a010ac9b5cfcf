"""Routes of the notifications app under /api/v1/."""

from django.urls import path

from apps.notifications.api.views import ReceivedNotificationListView

urlpatterns = [
    path("me/notifications/", ReceivedNotificationListView.as_view(), name="me-notifications"),
]
