"""Views of roadworks: the content ViewSet wired to works' serializers, filters and services."""

from __future__ import annotations

from typing import ClassVar

from apps.core.api.content_schema import content_viewset_schema
from apps.core.api.viewsets import ContentViewSet
from apps.works.api.filters import WorksFilterSet
from apps.works.api.schema import LIST_EXAMPLE, WRITE_EXAMPLE
from apps.works.api.serializers import (
    WorksDetailSerializer,
    WorksListItemSerializer,
    WorksWriteSerializer,
)
from apps.works.models import Works
from apps.works.selectors import works_detail, works_list
from apps.works.services import works_apply


@content_viewset_schema(
    type_code="works",
    label="Works",
    list_serializer=WorksListItemSerializer,
    detail_serializer=WorksDetailSerializer,
    write_serializer=WorksWriteSerializer,
    list_description="`active_on`, `status` and `impact` narrow by day, lifecycle and mode.",
    list_example=LIST_EXAMPLE,
    write_example=WRITE_EXAMPLE,
)
class WorksViewSet(ContentViewSet):
    """Roadworks and work sites on public space."""

    model = Works
    list_serializer_class = WorksListItemSerializer
    detail_serializer_class = WorksDetailSerializer
    write_serializer_class = WorksWriteSerializer
    filterset_class = WorksFilterSet
    list_selector = staticmethod(works_list)
    detail_selector = staticmethod(works_detail)

    apply_service = staticmethod(works_apply)
    apply_item = "works"
    boundary_fields: ClassVar[tuple[str, ...]] = ("expires_at", "end_at")
