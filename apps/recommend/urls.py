"""Recommender routes under /api/v1/."""

from django.urls import path

from apps.recommend.api.views import InteractionsView

urlpatterns = [
    path("interactions/", InteractionsView.as_view(), name="interactions"),
]
