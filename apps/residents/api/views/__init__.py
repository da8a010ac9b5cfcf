"""Resident API views: the device itself, and what it chooses (places, interests, saved)."""

from .device import (
    DeviceRegisterView,
    ExportView,
    MeView,
    PushTokenView,
    TransferCodeView,
)
from .drill import DrillCodeView, DrillView
from .profile import (
    InterestsView,
    PlaceDetailView,
    PlaceListView,
    SavedItemDetailView,
    SavedItemListView,
)

__all__ = [
    "DeviceRegisterView",
    "DrillCodeView",
    "DrillView",
    "ExportView",
    "InterestsView",
    "MeView",
    "PlaceDetailView",
    "PlaceListView",
    "PushTokenView",
    "SavedItemDetailView",
    "SavedItemListView",
    "TransferCodeView",
]
