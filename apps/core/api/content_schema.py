"""OpenAPI documentation of a content ViewSet (the same five operations for every type)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from apps.core.api.schema import (
    CONDITIONAL_PARAMETERS,
    FORMAT_PARAMETER,
    NOT_MODIFIED,
    geojson_collection_schema,
    geojson_feature_schema,
)


def _component(serializer: Any) -> str:
    return serializer.__name__.removesuffix("Serializer")


def content_viewset_schema(
    *,
    type_code: str,
    label: str,
    list_serializer: Any,
    detail_serializer: Any,
    write_serializer: Any,
    list_example: dict[str, Any] | None = None,
    write_example: dict[str, Any] | None = None,
    list_description: str = "",
) -> Any:
    """``extend_schema_view`` for list, retrieve, create, partial_update and destroy."""
    tags = [type_code]
    list_examples = (
        [
            OpenApiExample(
                f"{label} page",
                value={"count": 1, "next": None, "previous": None, "results": [list_example]},
                response_only=True,
                media_type="application/json",
            )
        ]
        if list_example
        else []
    )
    write_examples = (
        [OpenApiExample(f"New {label.lower()}", value=write_example, request_only=True)]
        if write_example
        else []
    )
    return extend_schema_view(
        list=extend_schema(
            operation_id=f"{type_code}_list",
            summary=f"List public {label.lower()}",
            description=(
                f"Published, not expired {label.lower()} only, 20 per page (`page_size` up to "
                "100). Filters combine with AND; comma lists inside one filter with OR. "
                f"{list_description}"
            ),
            tags=tags,
            parameters=[FORMAT_PARAMETER, *CONDITIONAL_PARAMETERS],
            responses={
                (200, "application/json"): list_serializer(many=True),
                (200, "application/geo+json"): geojson_collection_schema(
                    _component(list_serializer)
                ),
                304: NOT_MODIFIED,
            },
            examples=list_examples,
        ),
        retrieve=extend_schema(
            operation_id=f"{type_code}_retrieve",
            summary=f"One public {label.lower()} item",
            tags=tags,
            parameters=[FORMAT_PARAMETER, *CONDITIONAL_PARAMETERS],
            responses={
                (200, "application/json"): detail_serializer,
                (200, "application/geo+json"): geojson_feature_schema(
                    _component(detail_serializer)
                ),
                304: NOT_MODIFIED,
            },
        ),
        create=extend_schema(
            operation_id=f"{type_code}_create",
            summary=f"Publish {label.lower()} (API key or staff session)",
            description=(
                "Creates a draft through the same services as the admin (areas computed from "
                "the geometry), then applies `status` if given. Scoped to the caller's "
                "organization: another organization's slug is a 403."
            ),
            tags=tags,
            request=write_serializer,
            responses={201: write_serializer},
            examples=write_examples,
        ),
        partial_update=extend_schema(
            operation_id=f"{type_code}_partial_update",
            summary=f"Change {label.lower()} (any status, own organization only)",
            description=(
                "Only the fields sent change. `status` moves the item through its lifecycle "
                "(`draft`, `scheduled`, `published`, `archived`)."
            ),
            tags=tags,
            request=write_serializer,
            responses={200: write_serializer},
        ),
        destroy=extend_schema(
            operation_id=f"{type_code}_destroy",
            summary=f"Delete {label.lower()} (leaves a tombstone for syncing clients)",
            tags=tags,
            responses={204: None},
        ),
    )
