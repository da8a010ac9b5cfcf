"""The base of every ``/me/`` view: device token required, JSON only, throttled per device."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.residents.auth import DeviceScopedRateThrottle, DeviceTokenAuthentication, IsDevice
from apps.residents.models import Device


class KnownQueryParamsMixin:
    """400 for query parameters the route does not document (a typo must not pass unseen).

    Checked after authentication, permissions and throttles.
    """

    query_params_allowed: ClassVar[frozenset[str]] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        unknown = sorted(set(request.query_params) - self.query_params_allowed)
        if unknown:
            raise ValidationError({name: [_("Unknown query parameter.")] for name in unknown})


class ResidentAPIView(KnownQueryParamsMixin, APIView):
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


def no_store(response):  # type: ignore[no-untyped-def]
    """Personal data and secrets must not sit in shared caches."""
    response["Cache-Control"] = "no-store"
    return response
