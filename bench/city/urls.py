"""Diagnostics routes under /api/v1/diagnostics/ (404 unless ``API_DIAGNOSTICS``)."""

from django.urls import path

from bench.city.views import CeilingView, PlainItemsView

urlpatterns = [
    path("diagnostics/ceiling/", CeilingView.as_view(), name="diagnostics-ceiling"),
    path("diagnostics/plain-items/", PlainItemsView.as_view(), name="diagnostics-plain-items"),
]
