"""Filters of the roadworks list: day, lifecycle status, impacted modes, orderings."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from apps.core.api.filters import (
    ChoiceListFilter,
    ContentFilterSet,
    FormFieldFilter,
    ordering_filter,
)
from apps.core.api.params import PlausibleDateField
from apps.works.models import Impact, Works, WorkStatus


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
