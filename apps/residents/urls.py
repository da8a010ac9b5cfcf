"""Resident routes under /api/v1/: registration and the calling device's ``/me/`` resources."""

from django.urls import path

from apps.residents.api import views

urlpatterns = [
    path("devices/", views.DeviceRegisterView.as_view(), name="device-register"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/push-token/", views.PushTokenView.as_view(), name="me-push-token"),
    path("me/transfer-code/", views.TransferCodeView.as_view(), name="me-transfer-code"),
    path("me/drill/", views.DrillView.as_view(), name="me-drill"),
    path("me/drill/code/", views.DrillCodeView.as_view(), name="me-drill-code"),
    path("me/export/", views.ExportView.as_view(), name="me-export"),
    path("me/places/", views.PlaceListView.as_view(), name="me-places"),
    path("me/places/<int:pk>/", views.PlaceDetailView.as_view(), name="me-place"),
    path("me/interests/", views.InterestsView.as_view(), name="me-interests"),
    path("me/saved/", views.SavedItemListView.as_view(), name="me-saved"),
    path(
        "me/saved/<str:type>/<int:id>/", views.SavedItemDetailView.as_view(), name="me-saved-item"
    ),
]
