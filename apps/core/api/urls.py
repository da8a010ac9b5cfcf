"""Routes of the core API: taxonomy, territory and removed items."""

from django.urls import path

from apps.core.api.views import (
    AreaListView,
    CategoryListView,
    OrganizationListView,
    RemovedListView,
)

urlpatterns = [
    path("categories/", CategoryListView.as_view(), name="category-list"),
    path("organizations/", OrganizationListView.as_view(), name="organization-list"),
    path("areas/", AreaListView.as_view(), name="area-list"),
    path("removed/", RemovedListView.as_view(), name="removed-list"),
]
