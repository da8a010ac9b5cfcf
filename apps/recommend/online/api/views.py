"""``POST /api/v1/interactions/``: the app reports what the resident did, in batches."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.params import KnownQueryParams
from apps.recommend.online.api.serializers import (
    InteractionBatchResultSerializer,
    InteractionBatchSerializer,
)
from apps.recommend.services import interactions_log
from apps.residents.api.schema import error_responses
from apps.residents.auth import (
    DeviceScopedRateThrottle,
    DeviceTokenAuthentication,
    IsDevice,
    device_of,
)


class InteractionsView(KnownQueryParams, APIView):
    """Device token required: the log exists only under a device's personalization consent."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceScopedRateThrottle]
    throttle_scope = "interactions"

    @extend_schema(
        operation_id="interactions_log",
        summary="Report interactions (batched)",
        description="Up to 100 events per request. The whole batch is validated (unknown item, "
        "action or context, a time in the future, too many events → 400, nothing stored). "
        "Events are stored only if the device accepted personalization; otherwise the answer "
        "is still 202, with `logged: false`. Re-sending an event with the same `event_id` "
        "stores it once.",
        request=InteractionBatchSerializer,
        responses={
            202: InteractionBatchResultSerializer,
            **error_responses(400, 401, 413, 415, 429),
        },
        tags=["interactions"],
    )
    def post(self, request: Request) -> Response:
        serializer = InteractionBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        events = serializer.validated_data["events"]
        device = device_of(request)
        assert device is not None
        logged = interactions_log(device=device, events=events)
        body = InteractionBatchResultSerializer({"received": len(events), "logged": logged}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)
