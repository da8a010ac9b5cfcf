"""Core API views: health."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.health import health_report

HealthSerializer = inline_serializer(
    name="HealthReport",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "degraded", "unavailable"]),
        "database": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "cache": serializers.ChoiceField(choices=["ok", "local", "unavailable"]),
        "broker": serializers.ChoiceField(choices=["ok", "eager", "unavailable"]),
    },
)


class HealthView(APIView):
    """Readiness probe for load balancers (200 unless the database is down) and monitoring
    (``status``: ``ok``, ``degraded`` when Redis is down, ``unavailable``)."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    @extend_schema(
        operation_id="health",
        responses={200: HealthSerializer, 503: HealthSerializer},
        tags=["health"],
    )
    def get(self, request: Request) -> Response:
        healthy, report = health_report()
        code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
        response = Response(report, status=code)
        response["Cache-Control"] = "no-store"
        return response
