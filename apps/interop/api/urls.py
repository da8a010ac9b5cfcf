"""Routes of the open roadworks feeds and of the geocoding proxy."""

from django.urls import path

from apps.interop.api.geocode import GeocodeView
from apps.interop.api.views import CifsFeedView, Datex2FeedView, WzdxFeedView

urlpatterns = [
    path("feeds/works.wzdx.geojson", WzdxFeedView.as_view(), name="feed-works-wzdx"),
    path("feeds/works.cifs.xml", CifsFeedView.as_view(), name="feed-works-cifs"),
    path("feeds/works.datex2.xml", Datex2FeedView.as_view(), name="feed-works-datex2"),
    path("geocode/", GeocodeView.as_view(), name="geocode"),
]
