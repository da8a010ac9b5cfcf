"""``GET /api/v1/transparency/notifications/`` (JSON, paginated) and ``….csv`` (the whole
register): every push the city sent about an item (``apps.notifications.transparency``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django import forms
from django.db.models import Q
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import ListPagination
from apps.core.api.params import KnownQueryParams, LenientDateTimeField
from apps.core.api.throttles import PublicReadThrottle
from apps.core.models import Urgency
from apps.notifications.models import Notification
from apps.notifications.transparency import (
    LISTED_KINDS,
    RegisterEntry,
    register_entries,
    register_notifications,
)
from apps.residents.api.schema import error_responses

#: Notifications read per query while streaming the CSV.
CSV_CHUNK = 500

SINCE = OpenApiParameter(
    "since",
    OpenApiTypes.DATETIME,
    description="Only pushes first sent at or after this ISO 8601 time (with its offset).",
)


class _Texts(serializers.Serializer):
    fr = serializers.CharField()
    en = serializers.CharField()


class _Item(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()


class _Targeting(serializers.Serializer):
    areas = serializers.ListField(
        child=serializers.CharField(), help_text="Districts the item touches (its geometry)."
    )
    city_wide = serializers.BooleanField(help_text="The item has no place: the whole city.")
    category = _Texts(allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.codes())


class RegisterEntrySerializer(serializers.Serializer):
    """One push of the public register (the schema of ``RegisterEntry.as_json``)."""

    id = serializers.IntegerField(help_text="The notification's id.")
    kind = serializers.ChoiceField(choices=[k.value for k in LISTED_KINDS])
    sent_at = serializers.DateTimeField(help_text="When the first device was sent it.")
    item = _Item()
    title = _Texts(help_text="The title the push carried.")
    publisher = serializers.CharField(
        allow_null=True, help_text="The organization that published the item."
    )
    targeting = _Targeting()
    reached = serializers.IntegerField(
        allow_null=True,
        help_text="Devices reached, rounded to 5; null when masked (fewer than 5).",
    )


def _since(request: Request) -> Any:
    raw = request.query_params.get("since")
    if raw is None:
        return None
    try:
        return LenientDateTimeField().clean(raw)
    except forms.ValidationError as exc:
        raise ValidationError({"since": exc.messages}) from None


class NotificationRegisterView(KnownQueryParams, GenericAPIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicReadThrottle]
    pagination_class = ListPagination
    query_params_allowed = frozenset({"page", "page_size", "since"})
    serializer_class = RegisterEntrySerializer
    queryset = Notification.objects.none()

    @extend_schema(
        operation_id="transparency_notifications",
        summary="The public register of pushes",
        description="Every push the city sent about an item (publications, updates, "
        "reminders; not staff tests, digests or drills), newest first: the item, its "
        "publisher, the targeting criteria (areas touched, category, urgency), the number of "
        "devices reached (rounded to 5, null below 5) and when. Also as CSV "
        "(`/transparency/notifications.csv`) and as a web page (`/transparence/notifications/`).",
        parameters=[SINCE],
        responses={200: RegisterEntrySerializer(many=True), **error_responses(400, 404, 429)},
        tags=["transparency"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(register_notifications(since=_since(request)))
        assert page is not None
        return self.get_paginated_response([e.as_json() for e in register_entries(page)])


CSV_COLUMNS = (
    "id",
    "kind",
    "sent_at",
    "item_type",
    "item_id",
    "title_fr",
    "title_en",
    "publisher",
    "category_fr",
    "category_en",
    "areas",
    "city_wide",
    "urgency",
    "reached",
)


def csv_line(entry: RegisterEntry) -> list[Any]:
    """One CSV row; ``reached`` is empty when masked, areas are joined with " | "."""
    return [
        entry.id,
        entry.kind,
        entry.sent_at.isoformat(),
        entry.item_type,
        entry.item_id,
        entry.title_fr,
        entry.title_en,
        entry.publisher or "",
        entry.category_fr or "",
        entry.category_en or "",
        " | ".join(entry.areas),
        "yes" if entry.city_wide else "no",
        entry.urgency,
        "" if entry.reached is None else entry.reached,
    ]


def _csv_chunks(since: Any) -> Iterator[str]:
    """The CSV, ``CSV_CHUNK`` notifications per query (keyset on the register's order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    after: tuple[Any, int] | None = None
    while True:
        rows = register_notifications(since=since)
        if after is not None:
            sent_at, pk = after
            rows = rows.filter(Q(first_sent_at__lt=sent_at) | Q(first_sent_at=sent_at, id__lt=pk))
        page = list(rows[:CSV_CHUNK])
        if not page:
            return
        buffer.seek(0)
        buffer.truncate()
        for entry in register_entries(page):
            writer.writerow(csv_line(entry))
        yield buffer.getvalue()
        after = (page[-1].first_sent_at, page[-1].pk)


class NotificationRegisterCsvView(KnownQueryParams, APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicReadThrottle]
    query_params_allowed = frozenset({"since"})

    @extend_schema(
        operation_id="transparency_notifications_csv",
        summary="The public register of pushes, as CSV",
        description="The whole register (or since a time), one line per push, UTF-8 with a "
        "header line: " + ", ".join(f"`{c}`" for c in CSV_COLUMNS) + ". `reached` is empty "
        "when masked; `areas` are joined with ` | `.",
        parameters=[SINCE],
        responses={
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR),
            **error_responses(400, 429),
        },
        tags=["transparency"],
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        since = _since(request)
        response = StreamingHttpResponse(_csv_chunks(since), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="notifications.csv"'
        response["Cache-Control"] = "public, max-age=300"
        return response
