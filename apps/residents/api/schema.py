"""OpenAPI: the device bearer-token security scheme and the documented error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

from apps.core.api.schema import ErrorSerializer


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <device token>`` (both the strict and the optional class)."""

    target_class = "apps.residents.auth.DeviceTokenAuthentication"
    match_subclasses = True
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The device token returned once by POST /api/v1/devices/.",
        }


_DESCRIPTIONS = {
    400: "Invalid input (the error shape lists each field).",
    401: "Missing, unknown or revoked device token.",
    404: "Not found, not owned by the calling device, or no such page.",
    413: "Request body too large.",
    415: "The body must be JSON.",
    429: "Throttled; see the Retry-After header.",
    503: "Temporarily unavailable; see the Retry-After header.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Documented error responses, all with the shared error shape (``Error``)."""
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=_DESCRIPTIONS[code])
        for code in codes
    }
