"""Routes of the notifications app under /api/v1/."""

from django.urls import path

from apps.notifications.api.simulate import SimulateView
from apps.notifications.api.transparency import (
    NotificationRegisterCsvView,
    NotificationRegisterView,
)
from apps.notifications.api.views import OpenReportView, ReceivedNotificationListView

urlpatterns = [
    path("me/notifications/", ReceivedNotificationListView.as_view(), name="me-notifications"),
    path("me/simulate/", SimulateView.as_view(), name="me-simulate"),
    path("opens/", OpenReportView.as_view(), name="opens"),
    path(
        "transparency/notifications/",
        NotificationRegisterView.as_view(),
        name="transparency-notifications",
    ),
    path(
        "transparency/notifications.csv",
        NotificationRegisterCsvView.as_view(),
        name="transparency-notifications-csv",
    ),
]
