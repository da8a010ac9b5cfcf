"""Views of roadworks: the content ViewSet wired to works' serializers, filters and services."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from apps.core.api.content_schema import content_viewset_schema
from apps.core.api.filters import (
    ChoiceListFilter,
    ContentFilterSet,
    FormFieldFilter,
    ordering_filter,
)
from apps.core.api.params import PlausibleDateField
from apps.core.api.viewsets import ContentViewSet
from apps.works.api.serializers import (
    WorksDetailSerializer,
    WorksListItemSerializer,
    WorksWriteSerializer,
)
from apps.works.models import Impact, Works, WorkStatus
from apps.works.selectors import works_detail, works_list
from apps.works.services import works_apply


class ActiveOnFilter(FormFieldFilter):
    field_class = PlausibleDateField

    def apply(self, qs: QuerySet, value: Any) -> QuerySet:
        return qs.active_on(value)  # type: ignore[attr-defined]


class ImpactFilter(ChoiceListFilter):
    def apply(self, qs: QuerySet, value: list[str]) -> QuerySet:
        any_impact = Q()
        for impact in value:
            any_impact |= Q(**{f"impacts_{impact}": True})
        return qs.filter(any_impact)


def _enum_list(values: list[str], description: str) -> dict[str, Any]:
    alternatives = "|".join(values)
    return {
        "type": "string",
        "pattern": rf"^({alternatives})(,({alternatives}))*$",
        "description": f"{description} Comma list of: {', '.join(f'`{v}`' for v in values)}.",
    }


class WorksFilterSet(ContentFilterSet):
    active_on = extend_schema_field(
        {
            "type": "string",
            "format": "date",
            "description": (
                "Works running on this day (`YYYY-MM-DD`): within their dates and, when they "
                "have periods, on one of the period's weekdays. Cancelled works are left out."
            ),
        }
    )(ActiveOnFilter())
    status = extend_schema_field(
        _enum_list(WorkStatus.values, "Lifecycle status of the works (`work_status`).")
    )(ChoiceListFilter(field_name="work_status", allowed=WorkStatus.values))
    impact = extend_schema_field(_enum_list(Impact.values, "Works impacting any of these modes."))(
        ImpactFilter(allowed=Impact.values)
    )
    ordering = ordering_filter(
        ["publish_at", "updated_at", "start_at", "end_at", "distance"], "-publish_at"
    )

    class Meta(ContentFilterSet.Meta):
        model = Works


@content_viewset_schema(
    type_code="works",
    label="Works",
    list_serializer=WorksListItemSerializer,
    detail_serializer=WorksDetailSerializer,
    write_serializer=WorksWriteSerializer,
    list_description="`active_on`, `status` and `impact` narrow by day, lifecycle and mode.",
    list_example={
        "type": "works",
        "id": 7,
        "title": "Travaux de voirie rue Garibaldi",
        "summary": "Réfection de la chaussée, circulation alternée.",
        "geometry": {"type": "LineString", "coordinates": [[4.8512, 45.7533], [4.8521, 45.7561]]},
        "category": {"slug": "travaux", "name": "Travaux", "colour": "#e8590c", "icon": ""},
        "organization": {"slug": "metropole", "name": "Métropole"},
        "urgency": "important",
        "publish_at": "2026-03-01T08:00:00+01:00",
        "updated_at": "2026-03-02T10:12:00+01:00",
        "image": None,
        "url": "http://127.0.0.1:8000/api/v1/works/7/",
        "start_at": "2026-03-09T07:00:00+01:00",
        "end_at": "2026-04-30T18:00:00+02:00",
        "work_status": "planned",
        "work_type": "road_maintenance",
        "severity": "moderate",
        "road_state": "single_lane_alternating",
        "impacts": ["road", "bike_lane"],
        "night_work": False,
    },
    write_example={
        "title_fr": "Travaux de voirie rue Garibaldi",
        "category": "travaux",
        "geometry": {"type": "LineString", "coordinates": [[4.8512, 45.7533], [4.8521, 45.7561]]},
        "start_at": "2026-03-09T07:00:00+01:00",
        "end_at": "2026-04-30T18:00:00+02:00",
        "road_state": "single_lane_alternating",
        "impacts": ["road", "bike_lane"],
        "periods": [{"start_date": "2026-03-09", "end_date": "2026-04-30", "weekdays": "12345"}],
        "status": "published",
    },
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
