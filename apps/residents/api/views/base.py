"""The base of every ``/me/`` view: device token required, JSON only, throttled per device."""

from __future__ import annotations

from rest_framework.views import APIView

from apps.core.api.params import KnownQueryParams
from apps.residents.auth import DeviceScopedRateThrottle, DeviceTokenAuthentication, IsDevice
from apps.residents.models import Device


class ResidentAPIView(KnownQueryParams, APIView):
    """A ``/me/`` route: everything it reads or writes is scoped to ``self.device``."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceScopedRateThrottle]
    throttle_scope = "resident"

    @property
    def device(self) -> Device:
        """The calling device (``IsDevice`` guarantees there is one)."""
        assert isinstance(self.request.auth, Device)
        return self.request.auth


def no_store(response):
    """Personal data and secrets must not sit in shared caches."""
    response["Cache-Control"] = "no-store"
    return response
