"""Serializers of ``/api/v1/me/notifications/``: a received push, with why it was received."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.models import Urgency
from apps.notifications.models import ITEM_TYPE_CHOICES, Kind
from apps.notifications.texts import why_texts


class ReceivedItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ITEM_TYPE_CHOICES)
    id = serializers.IntegerField()


class ReceivedNotificationSerializer(serializers.Serializer):
    """One ``Delivery`` that was sent, seen from the device that received it.

    The context carries ``language``, the device's language.
    """

    id = serializers.IntegerField(
        source="notification_id",
        help_text="The notification's id: the `notification_id` of the push's data.",
    )
    kind = serializers.ChoiceField(
        source="notification.kind",
        choices=Kind.choices,
        help_text="`new` (publication), `update` (a material change that replaced the earlier "
        "push), `reminder`, `digest` (the day's pushes beyond the daily cap), `test`.",
    )
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    item = serializers.SerializerMethodField(
        help_text="The item the push is about; null for digests and tests."
    )
    urgency = serializers.SerializerMethodField()
    sent_at = serializers.DateTimeField()
    why = serializers.SerializerMethodField(
        help_text="Why this device received it, as short phrases in the device's language "
        '("300 m from Home", "You follow Culture").'
    )

    def _language(self) -> str:
        return str(self.context.get("language") or "fr")

    def get_title(self, delivery: Any) -> str:
        return delivery.notification.text_for(self._language())["title"]

    def get_body(self, delivery: Any) -> str:
        return delivery.notification.text_for(self._language())["body"]

    @extend_schema_field(ReceivedItemSerializer(allow_null=True))
    def get_item(self, delivery: Any) -> dict[str, Any] | None:
        notification = delivery.notification
        if not notification.item_type or notification.item_id is None:
            return None
        return {"type": notification.item_type, "id": notification.item_id}

    @extend_schema_field(serializers.ChoiceField(choices=Urgency.codes()))
    def get_urgency(self, delivery: Any) -> str:
        return Urgency(delivery.notification.urgency).code

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_why(self, delivery: Any) -> list[str]:
        return why_texts(
            delivery.why or {},
            kind=delivery.notification.kind,
            category=getattr(delivery, "category_name", "") or "",
            language=self._language(),
        )


class OpenReportSerializer(serializers.Serializer):
    """``POST /api/v1/opens/``: the push's ``notification_id`` and ``open_ticket`` as received."""

    notification_id = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The `notification_id` of the push's data."
    )
    ticket = serializers.RegexField(
        r"^[A-Za-z0-9_-]{16,64}$",
        help_text="The `open_ticket` of the push's data, as received.",
    )


class OpenReportResultSerializer(serializers.Serializer):
    counted = serializers.BooleanField(
        help_text="Whether this report counted an open: false for a ticket already used, "
        "expired or unknown (report once; the answer needs no retry)."
    )
