"""Routes of public alerts: the CAP Atom feed and each CAP message."""

from django.urls import path

from apps.alerts.views import AlertsAtomFeedView, CapMessageView

urlpatterns = [
    path("feeds/alerts.cap.atom", AlertsAtomFeedView.as_view(), name="feed-alerts-cap"),
    path("feeds/alerts/<str:identifier>.cap", CapMessageView.as_view(), name="alerts-cap-message"),
]
