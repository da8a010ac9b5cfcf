"""``/me/drill/``: enrol this phone as a test device for drill alerts (docs/alerts.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.residents.api.schema import error_responses
from apps.residents.api.views.base import ResidentAPIView, no_store
from apps.residents.models import DrillEnrolment
from apps.residents.services import drill_code_create, drill_enrol, drill_unenrol

TAGS = ["residents"]


class DrillStatusSerializer(serializers.Serializer):
    enrolled = serializers.BooleanField(help_text="Whether drill alerts reach this phone.")
    enrolled_at = serializers.DateTimeField(allow_null=True)


class DrillCodeSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Show it on screen: the resident confirms it (PUT /me/drill/) or a staff "
        "member types it in the admin. One use, 15 minutes."
    )
    expires_at = serializers.DateTimeField()


class DrillEnrolInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)


def _status(device_id: int) -> Response:
    enrolment = DrillEnrolment.objects.enrolled().filter(device_id=device_id).first()
    body = DrillStatusSerializer(
        {"enrolled": enrolment is not None, "enrolled_at": enrolment and enrolment.enrolled_at}
    ).data
    return no_store(Response(body))


class DrillView(ResidentAPIView):
    @extend_schema(
        operation_id="me_drill_status",
        summary="Is this phone a test device for drill alerts?",
        responses={200: DrillStatusSerializer, **error_responses(401, 429)},
        examples=[
            OpenApiExample(
                "Enrolled",
                value={"enrolled": True, "enrolled_at": "2026-12-07T10:00:00+01:00"},
                response_only=True,
            )
        ],
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return _status(self.device.pk)

    @extend_schema(
        operation_id="me_drill_enrol",
        summary="Enrol this phone as a test device (confirm the code it shows)",
        description="Drill alerts (status Exercise, texts prefixed EXERCICE) reach only the "
        "enrolled test devices. Get a code with POST /me/drill/code/, then confirm it here.",
        request=DrillEnrolInputSerializer,
        responses={200: DrillStatusSerializer, **error_responses(400, 401, 413, 415, 429)},
        examples=[OpenApiExample("Confirm", value={"code": "ABCDE-FGHJK"}, request_only=True)],
        tags=TAGS,
    )
    def put(self, request: Request) -> Response:
        serializer = DrillEnrolInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            drill_enrol(code=serializer.validated_data["code"], device=self.device)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return _status(self.device.pk)

    @extend_schema(
        operation_id="me_drill_leave",
        summary="Stop receiving drill alerts on this phone",
        responses={204: None, **error_responses(401, 429)},
        tags=TAGS,
    )
    def delete(self, request: Request) -> Response:
        drill_unenrol(device=self.device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DrillCodeView(ResidentAPIView):
    @extend_schema(
        operation_id="me_drill_code_create",
        summary="Get the code that enrols this phone as a test device",
        request=None,
        responses={201: DrillCodeSerializer, **error_responses(400, 401, 429)},
        examples=[
            OpenApiExample(
                "Code",
                value={"code": "ABCDE-FGHJK", "expires_at": "2026-12-07T10:15:00+01:00"},
                response_only=True,
            )
        ],
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        if request.data:
            raise ValidationError(
                {"non_field_errors": [_("Cette route ne prend pas de corps de requête.")]}
            )
        code, expires_at = drill_code_create(device=self.device)
        body = DrillCodeSerializer({"code": code, "expires_at": expires_at}).data
        return no_store(Response(body, status=status.HTTP_201_CREATED))
