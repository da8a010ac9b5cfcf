"""Serializers of ``POST /api/v1/interactions/``: a batch of validated events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.item_types import ItemType
from apps.recommend.codes import Action, Context
from apps.recommend.online.interleaving import TOKEN_MAX_CHARS, RankerMark, token_open
from apps.recommend.selectors import items_once_public
from apps.residents.api.fields import (
    MAX_ID,
    StrictInputMixin,
    StrictIntegerField,
    StrictUUIDField,
)

#: Events per request.
BATCH_MAX = 100
#: How far in the future a phone's clock may be.
CLOCK_SKEW = timedelta(minutes=5)


class InteractionEventSerializer(StrictInputMixin, serializers.Serializer):
    type = serializers.ChoiceField(choices=ItemType.codes())
    id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    action = serializers.ChoiceField(choices=Action.codes())
    at = serializers.DateTimeField(
        help_text="When it happened (ISO 8601 with offset); at most 5 minutes in the future "
        "and not older than the retention period."
    )
    # Declared fields leave the class namespace: ``self.context`` stays the serializer context.
    context = serializers.ChoiceField(choices=Context.codes())  # type: ignore[assignment]
    position = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=10_000,
        help_text="Rank of the item in the list shown (0 = first).",
    )
    event_id = StrictUUIDField(
        help_text="A UUID the app gives each event: a retried batch is stored once."
    )
    ranker = serializers.CharField(
        required=False,
        max_length=TOKEN_MAX_CHARS,
        trim_whitespace=False,
        help_text="The item's `ranker` token, when the feed gave one (online evaluation); "
        "send it unchanged.",
    )

    def validate_ranker(self, value: str) -> RankerMark:
        try:
            return token_open(value)
        except ValueError:
            raise serializers.ValidationError(
                _("Jeton « ranker » invalide : renvoyez celui du fil, tel quel.")
            ) from None

    def validate_at(self, value: Any) -> Any:
        now = timezone.now()
        if value > now + CLOCK_SKEW:
            raise serializers.ValidationError(_("Cette heure est dans le futur."))
        if value < now - timedelta(days=settings.RETENTION_DAYS):
            raise serializers.ValidationError(_("Cette heure précède la durée de conservation."))
        return value


class InteractionBatchSerializer(StrictInputMixin, serializers.Serializer):
    events = InteractionEventSerializer(  # type: ignore[call-arg]
        many=True, allow_empty=False, max_length=BATCH_MAX
    )

    def validate_events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        existing = items_once_public((event["type"], event["id"]) for event in events)
        errors = {
            str(index): {
                "id": [
                    _("Aucun contenu « %(type)s » n'a cet identifiant.") % {"type": event["type"]}
                ]
            }
            for index, event in enumerate(events)
            if (event["type"], event["id"]) not in existing
        }
        if errors:
            raise serializers.ValidationError(errors)
        return events


class InteractionBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Events in the batch.")
    logged = serializers.BooleanField(
        help_text="False when the device has not accepted personalization: nothing is stored."
    )
