"""Taxonomy and territory (categories, organizations, areas) and removed items for sync."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import django_filters
from django.db.models import Count, Max, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from apps.core.api import schema as _schema  # noqa: F401  (registers the OpenAPI extensions)
from apps.core.api.conditional import etag_for, not_modified, set_validators
from apps.core.api.filters import ChoiceListFilter, DateTimeFromFilter
from apps.core.api.params import KnownQueryParams
from apps.core.api.renderers import GeoJSONRenderer, JsonErrorsMixin, StrictFormatNegotiation
from apps.core.api.schema import (
    CONDITIONAL_PARAMETERS,
    FORMAT_PARAMETER,
    NOT_MODIFIED,
    geojson_collection_schema,
)
from apps.core.api.serializers import (
    ITEM_TYPES,
    AreaSerializer,
    CategorySerializer,
    OrganizationSerializer,
)
from apps.core.api.throttles import PublicReadThrottle
from apps.core.models import Area, AreaKind, Tombstone
from apps.core.selectors import area_list, category_list, organization_list, tombstone_list


class _PublicListView(KnownQueryParams, JsonErrorsMixin, generics.ListAPIView):
    """A public, paginated list with ETag/Last-Modified from a cheap version query."""

    query_params_allowed = frozenset({"format"})

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [PublicReadThrottle]
    content_negotiation_class = StrictFormatNegotiation
    renderer_classes = [JSONRenderer]

    def version(self, queryset: QuerySet) -> dict[str, Any]:
        """Without an ``updated_at`` everywhere, small tables hash their rows."""
        rows = list(queryset.values_list(*self.version_fields))
        return {"rows": json.dumps(rows, default=str), "count": len(rows)}

    version_fields: ClassVar[tuple[str, ...]] = ("pk",)
    known_count: int | None = None

    def paginate_queryset(self, queryset: Any) -> Any:
        return self.paginator.paginate_queryset(  # type: ignore[call-arg,union-attr]
            queryset, self.request, view=self, count=self.known_count
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        queryset = self.filter_queryset(self.get_queryset())
        version = self.version(queryset)
        etag = etag_for(request, version, fmt=request.accepted_renderer.format)
        last_modified = version.get("updated")
        cached = not_modified(request, etag=etag, last_modified=last_modified)
        if cached is not None:
            return set_validators(cached, etag=etag, last_modified=last_modified)
        self.known_count = version.get("count")
        response = super().list(request, *args, **kwargs)
        return set_validators(response, etag=etag, last_modified=last_modified)


@extend_schema_view(
    get=extend_schema(
        operation_id="categories_list",
        summary="Categories residents follow (names in the request's language)",
        tags=["taxonomy"],
        parameters=CONDITIONAL_PARAMETERS,
        responses={200: CategorySerializer(many=True), 304: NOT_MODIFIED},
    )
)
class CategoryListView(_PublicListView):
    serializer_class = CategorySerializer
    version_fields = ("pk", "slug", "name_fr", "name_en", "colour", "icon", "position")

    def get_queryset(self) -> QuerySet:
        return category_list()


@extend_schema_view(
    get=extend_schema(
        operation_id="organizations_list",
        summary="Publishers (the city, its services, partners)",
        tags=["taxonomy"],
        parameters=CONDITIONAL_PARAMETERS,
        responses={200: OrganizationSerializer(many=True), 304: NOT_MODIFIED},
    )
)
class OrganizationListView(_PublicListView):
    serializer_class = OrganizationSerializer

    def get_queryset(self) -> QuerySet:
        return organization_list()

    def version(self, queryset: QuerySet) -> dict[str, Any]:
        return queryset.order_by().aggregate(count=Count("pk"), updated=Max("updated_at"))


class AreaFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AreaKind.choices, help_text="Only this kind.")

    class Meta:
        model = Area
        fields: ClassVar[list[str]] = []


@extend_schema_view(
    get=extend_schema(
        operation_id="areas_list",
        summary="Communes and districts, with their outlines",
        tags=["taxonomy"],
        parameters=[FORMAT_PARAMETER, *CONDITIONAL_PARAMETERS],
        responses={
            (200, "application/json"): AreaSerializer(many=True),
            (200, "application/geo+json"): geojson_collection_schema("Area"),
            304: NOT_MODIFIED,
        },
    )
)
class AreaListView(_PublicListView):
    serializer_class = AreaSerializer
    renderer_classes = [JSONRenderer, GeoJSONRenderer]
    filter_backends = [DjangoFilterBackend]
    filterset_class = AreaFilterSet

    def get_queryset(self) -> QuerySet:
        return area_list()

    def version(self, queryset: QuerySet) -> dict[str, Any]:
        return queryset.order_by().aggregate(count=Count("pk"), updated=Max("updated_at"))


class RemovedItemSerializer(serializers.ModelSerializer):
    """An item that left the public set: drop it from your copy."""

    type = serializers.ChoiceField(source="item_type", choices=ITEM_TYPES, read_only=True)
    id = serializers.IntegerField(source="item_id", read_only=True)

    class Meta:
        model = Tombstone
        fields = ("type", "id", "reason", "removed_at")


class RemovedFilterSet(django_filters.FilterSet):
    since = extend_schema_field(
        {
            "type": "string",
            "format": "date-time",
            "description": "Only removals at or after this ISO 8601 time (inclusive).",
        }
    )(DateTimeFromFilter(field_name="removed_at"))
    type = extend_schema_field(
        {
            "type": "string",
            "pattern": r"^(news|works|events)(,(news|works|events))*$",
            "description": "Comma list of item types: `news`, `works`, `events`.",
        }
    )(ChoiceListFilter(field_name="item_type", allowed=ITEM_TYPES))

    class Meta:
        model = Tombstone
        fields: ClassVar[list[str]] = []


@extend_schema_view(
    get=extend_schema(
        operation_id="removed_list",
        summary="Items removed from the public set (deleted, archived, unpublished)",
        description=(
            "For incremental sync with `updated_since`: after fetching changed items, fetch the "
            "removals since the same time and drop them locally. An item that comes back is "
            "listed again by `updated_since` and leaves this list. Oldest removal first."
        ),
        tags=["sync"],
        parameters=CONDITIONAL_PARAMETERS,
        responses={200: RemovedItemSerializer(many=True), 304: NOT_MODIFIED},
    )
)
class RemovedListView(_PublicListView):
    serializer_class = RemovedItemSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RemovedFilterSet

    def get_queryset(self) -> QuerySet:
        return tombstone_list()

    def version(self, queryset: QuerySet) -> dict[str, Any]:
        return queryset.order_by().aggregate(count=Count("pk"), updated=Max("removed_at"))
