"""Device views: registration, preferences (``/me/``), push token, transfer code, export."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.params import KnownQueryParams
from apps.residents.api.schema import error_responses
from apps.residents.api.serializers import (
    LANGUAGE_CODES,
    DevicePreferencesInputSerializer,
    DeviceProfileSerializer,
    DeviceRegisteredSerializer,
    DeviceRegisterInputSerializer,
    PushTokenInputSerializer,
    TransferCodeSerializer,
)
from apps.residents.api.views.base import ResidentAPIView, no_store
from apps.residents.app_check import HEADER, AppCheckHeaderAuthentication, app_check_verify
from apps.residents.auth import DeviceScopedRateThrottle, RegistrationCeilingThrottle
from apps.residents.gdpr import device_export
from apps.residents.services import (
    device_erase,
    device_preferences_update,
    device_push_token_set,
    device_register,
    device_register_by_transfer,
    transfer_code_create,
)

TAGS = ["residents"]


class DeviceRegisterView(KnownQueryParams, APIView):
    """Anonymous registration of an installed app.

    Abuse controls, cheapest first: a rate per client address (an IPv6 /64), App Check when
    the deployment requires it, then a ceiling on all registrations together, which only
    requests that passed the first two count against.
    """

    authentication_classes = [AppCheckHeaderAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [DeviceScopedRateThrottle]

    @property
    def throttle_scope(self) -> str:
        # An attested app needs no tight per-address limit (carrier NAT shares addresses).
        return "registration_app_check" if settings.APP_CHECK_REQUIRED else "registration"

    @extend_schema(
        operation_id="device_register",
        summary="Register a device (no account)",
        description="Returns the device id and its bearer token, shown once. With "
        "`transfer_code`, the new device takes over the profile of the device that issued the "
        "code (preferences, places, interests, saved items, and the interaction log if "
        "personalization was accepted) and that old device is erased. A push token already "
        "held by another device moves to this one.",
        request=DeviceRegisterInputSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Firebase App Check token; required when the deployment turns App "
                "Check on (APP_CHECK_REQUIRED): missing or invalid → 401.",
            )
        ],
        responses={
            201: DeviceRegisteredSerializer,
            **error_responses(400, 401, 413, 415, 429, 503),
        },
        auth=[],
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        app_check_verify(request)
        ceiling = RegistrationCeilingThrottle()
        if not ceiling.allow_request(request, self):
            self.throttled(request, ceiling.wait())
        serializer = DeviceRegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        common = {
            "platform": data["platform"],
            "push_token": data.get("push_token"),
            "timezone_name": data.get("timezone"),
        }
        if data.get("transfer_code"):
            device, token = device_register_by_transfer(
                transfer_code=data["transfer_code"], language=data.get("language"), **common
            )
        else:
            language = data.get("language") or getattr(request, "LANGUAGE_CODE", None)
            device, token = device_register(
                language=language if language in LANGUAGE_CODES else None, **common
            )
        body = DeviceRegisteredSerializer({"id": device.pk, "token": token}).data
        return no_store(Response(body, status=status.HTTP_201_CREATED))


class MeView(ResidentAPIView):
    """The calling device's preferences; DELETE erases everything about it."""

    @extend_schema(
        operation_id="me_retrieve",
        summary="Read my preferences",
        responses={200: DeviceProfileSerializer, **error_responses(401, 429)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return no_store(Response(DeviceProfileSerializer(self.device).data))

    @extend_schema(
        operation_id="me_update",
        summary="Change my preferences",
        description="Any subset of the preferences. Unknown or read-only fields are a 400. "
        "Withdrawing `personalization_consent` erases the interaction log.",
        request=DevicePreferencesInputSerializer,
        responses={200: DeviceProfileSerializer, **error_responses(400, 401, 413, 415, 429)},
        tags=TAGS,
    )
    def patch(self, request: Request) -> Response:
        serializer = DevicePreferencesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device = device_preferences_update(device=self.device, changes=serializer.validated_data)
        return no_store(Response(DeviceProfileSerializer(device).data))

    @extend_schema(
        operation_id="me_erase",
        summary="Erase everything about this device",
        description="Deletes the device and every row about it (places, interests, saved "
        "items, interactions, notifications received). The token stops working. Irreversible.",
        responses={204: None, **error_responses(401, 429)},
        tags=TAGS,
    )
    def delete(self, request: Request) -> Response:
        device_erase(device=self.device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushTokenView(ResidentAPIView):
    @extend_schema(
        operation_id="me_push_token_set",
        summary="Replace my push token",
        description="Call it whenever Firebase gives the app a new registration token. Another "
        "device holding the same token loses it. `null` removes the token (no pushes).",
        request=PushTokenInputSerializer,
        responses={204: None, **error_responses(400, 401, 413, 415, 429)},
        tags=TAGS,
    )
    def put(self, request: Request) -> Response:
        serializer = PushTokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device_push_token_set(
            device=self.device, push_token=serializer.validated_data["push_token"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TransferCodeView(ResidentAPIView):
    @extend_schema(
        operation_id="me_transfer_code_create",
        summary="Get a code to move to a new phone",
        description="A one-time code valid 15 minutes; a new code replaces the previous one. "
        "Register the new phone with it (POST /devices/ with `transfer_code`).",
        request=None,
        responses={201: TransferCodeSerializer, **error_responses(401, 429)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        if request.data:
            raise ValidationError(
                {"non_field_errors": [_("Cette adresse ne prend pas de corps de requête.")]}
            )
        code, expires_at = transfer_code_create(device=self.device)
        body = TransferCodeSerializer({"code": code, "expires_at": expires_at}).data
        return no_store(Response(body, status=status.HTTP_201_CREATED))


class ExportView(ResidentAPIView):
    @extend_schema(
        operation_id="me_export",
        summary="Export every personal datum held about this device (GDPR)",
        description="A JSON object: `device` (the profile) and one list per kind of data "
        "(`places`, `category_follows`, `area_follows`, `organization_follows`, "
        "`saved_items`, `interactions`, notifications received, …). Secrets (token hashes) "
        "are left out.",
        responses={
            200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The export."),
            **error_responses(401, 429),
        },
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        response = Response(device_export(self.device))
        response["Content-Disposition"] = 'inline; filename="quartier-export.json"'
        return no_store(response)
