"""Serializers of ``GET /api/v1/feed/``: query parameters, feed items (schema) and the page.

The items themselves are produced by ``apps.core.api.items.serialize_items`` (the list item of
each type) plus ``score`` and ``reasons``; the ``…FeedItem`` serializers below describe exactly
that for the OpenAPI schema (one per type, polymorphic on ``type``).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from apps.core.api.items import list_item_serializer
from apps.core.api.serializers import ItemTypeField
from apps.core.item_types import ITEM_TYPES
from apps.recommend.engine.explain import REASON_CODES
from apps.recommend.online.snapshot import CURSOR_MAX_CHARS, SNAPSHOT_ITEMS

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100


class _FiniteFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class FeedQuerySerializer(serializers.Serializer):
    lat = _FiniteFloatField(
        required=False,
        min_value=-90,
        max_value=90,
        help_text="Latitude of the resident (WGS 84 degrees), with `lon`.",
    )
    lon = _FiniteFloatField(
        required=False,
        min_value=-180,
        max_value=180,
        help_text="Longitude of the resident (WGS 84 degrees), with `lat`.",
    )
    page_size = serializers.IntegerField(
        required=False,
        default=PAGE_SIZE_DEFAULT,
        min_value=1,
        max_value=PAGE_SIZE_MAX,
        help_text=f"Items per page (1-{PAGE_SIZE_MAX}, default {PAGE_SIZE_DEFAULT}).",
    )
    cursor = serializers.CharField(
        required=False,
        max_length=CURSOR_MAX_CHARS,
        trim_whitespace=False,
        help_text="The `next` or `previous` link's cursor: continues the same ranked feed.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            missing = "lon" if "lat" in attrs else "lat"
            raise serializers.ValidationError(
                {missing: [_("Indiquez lat et lon, ou aucune des deux.")]}
            )
        return attrs


class FeedReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=list(REASON_CODES), help_text="Stable code, e.g. `near_place`, `follows_category`."
    )
    text = serializers.CharField(help_text="In the request's language: '350 m from Home'.")


def _type_field(type_code: str) -> serializers.Field:
    """``type`` of one item type: a pattern (not a one-value enum, which the enum
    postprocessing would merge), so that exactly one branch of ``FeedItem`` matches."""

    @extend_schema_field({"type": "string", "pattern": f"^{type_code}$"})
    class TypeField(ItemTypeField):
        pass

    return TypeField()


@cache
def feed_item_serializer(type_code: str) -> type[serializers.Serializer]:
    """The list item serializer of ``type_code`` plus ``score`` and ``reasons`` (schema)."""
    base: Any = list_item_serializer(type_code)
    fields = (*base.Meta.fields, "score", "reasons", "ranker")
    meta = type("Meta", (base.Meta,), {"fields": fields})
    return type(
        f"{type_code.title()}FeedItemSerializer",
        (base,),
        {
            "__module__": __name__,
            "__doc__": f"A {type_code} item of the feed: its list fields, score and reasons.",
            "Meta": meta,
            "type": _type_field(type_code),
            "score": serializers.FloatField(
                read_only=True, help_text="Ranking score (higher first; comparable within a feed)."
            ),
            "reasons": FeedReasonSerializer(
                many=True, read_only=True, help_text="Why it is shown (0 to 2, true facts only)."
            ),
            # Not read-only: the schema would then list it as required; the item is output only.
            "ranker": serializers.CharField(
                required=False,
                help_text="Only on an interleaved feed (online evaluation): an opaque token to "
                "send back as `ranker` with this item's interactions.",
            ),
        },
    )


def feed_item_schema() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="FeedItem",
        serializers={code: feed_item_serializer(code) for code in ITEM_TYPES},
        resource_type_field_name="type",
    )


class FeedPageSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, help_text="The next page of the same ranked feed, or null at its end."
    )
    previous = serializers.URLField(allow_null=True)
    personalized = serializers.BooleanField(
        help_text="True when ranked for the calling device (token and consent)."
    )
    ranker = serializers.CharField(
        help_text="`stage1` (hand-set weights) or the version of the trained model."
    )
    results = serializers.ListField(
        child=feed_item_schema(),
        help_text=f"Ranked items, active alerts first; at most {SNAPSHOT_ITEMS} in a feed.",
    )
