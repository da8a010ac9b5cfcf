"""``GET /api/v1/me/notifications/``: the pushes the calling device received, newest first;
``POST /api/v1/opens/``: an open of a push, counted without knowing which device."""

from __future__ import annotations

from typing import Any

from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import ListPagination
from apps.core.api.params import KnownQueryParams, LenientDateTimeField
from apps.core.api.throttles import PublicReadThrottle
from apps.notifications.api.serializers import (
    OpenReportResultSerializer,
    OpenReportSerializer,
    ReceivedNotificationSerializer,
)
from apps.notifications.models import Delivery
from apps.notifications.selectors import device_received
from apps.notifications.services.opens import open_report
from apps.residents.api.schema import error_responses
from apps.residents.api.views.base import ResidentAPIView, no_store

SINCE = OpenApiParameter(
    "since",
    OpenApiTypes.DATETIME,
    description="Only pushes sent at or after this ISO 8601 time (with its offset).",
)


class ReceivedNotificationListView(ResidentAPIView, GenericAPIView):
    pagination_class = ListPagination
    query_params_allowed = frozenset({"page", "page_size", "since"})
    serializer_class = ReceivedNotificationSerializer
    queryset = Delivery.objects.none()  # the schema generator's view; requests use the device

    def _since(self) -> Any:
        raw = self.request.query_params.get("since")
        if raw is None:
            return None
        try:
            return LenientDateTimeField().clean(raw)
        except forms.ValidationError as exc:
            raise ValidationError({"since": exc.messages}) from None

    def get_queryset(self) -> Any:
        return device_received(device=self.device, since=self._since())

    @extend_schema(
        operation_id="me_notifications_list",
        summary="List the pushes I received",
        description="Pushes actually sent to this device (not those held, capped or failed), "
        "newest first, each with its texts in the device's language and `why` it was "
        "received. Paginated like the other lists.",
        parameters=[SINCE],
        responses={
            200: ReceivedNotificationSerializer(many=True),
            **error_responses(400, 401, 404, 429),
        },
        tags=["residents"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        context = {"language": self.device.language}
        data = ReceivedNotificationSerializer(page, many=True, context=context).data
        return no_store(self.get_paginated_response(data))


class OpensThrottle(PublicReadThrottle):
    """Scope ``opens``: open reports, per client IP (they carry no device credentials)."""

    scope = "opens"


class OpenReportView(KnownQueryParams, APIView):
    """No credentials on purpose: the request must not say which device opened the push."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [OpensThrottle]

    @extend_schema(
        operation_id="opens_report",
        summary="Report that a push was opened",
        description="Send it once when the resident opens a push about an item, with the "
        "`notification_id` and `open_ticket` of the push's data, and **no** `Authorization` "
        "header: the open is counted for the city's statistics (every device, consent or "
        "not) and nothing records which device it was. A ticket counts once; a used, "
        "expired (`NOTIFY_OPEN_WINDOW_DAYS`) or unknown ticket answers `counted: false`. "
        "Reporting the open in `POST /interactions/` too is still what personalises the "
        "feed, for residents who accepted it.",
        request=OpenReportSerializer,
        responses={200: OpenReportResultSerializer, **error_responses(400, 413, 415, 429)},
        tags=["notifications"],
    )
    def post(self, request: Request) -> Response:
        serializer = OpenReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counted = open_report(
            notification_id=serializer.validated_data["notification_id"],
            ticket=serializer.validated_data["ticket"],
        )
        return no_store(Response(OpenReportResultSerializer({"counted": counted}).data))
