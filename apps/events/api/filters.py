"""Filters of the events list: occurrence dates, free or paying, audiences, orderings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from apps.core.api.filters import (
    ChoiceListFilter,
    ContentFilterForm,
    ContentFilterSet,
    FormFieldFilter,
    ordering_filter,
)
from apps.core.api.params import LenientDateTimeField
from apps.events.models import Audience, Event


class EventFilterForm(ContentFilterForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        after, before = cleaned.get("starts_after"), cleaned.get("starts_before")
        if after and before and before <= after:
            self.add_error("starts_before", _("« starts_before » doit suivre « starts_after »."))
        return cleaned


class StartsFilter(FormFieldFilter):
    """``starts_after``/``starts_before``: one occurrence must start within both bounds."""

    field_class = LenientDateTimeField

    def apply(self, qs: QuerySet, value: Any) -> QuerySet:
        after = self.cleaned.get("starts_after")
        before = self.cleaned.get("starts_before")
        if self.field_name == "starts_before" and after is not None:
            return qs  # applied together with starts_after
        return qs.starting_between(after=after, before=before)  # type: ignore[attr-defined]


class FreeFilter(FormFieldFilter):
    field_class = forms.ChoiceField

    def apply(self, qs: QuerySet, value: str) -> QuerySet:
        return qs.filter(is_free=value == "true")


_DATE_DOC = "ISO 8601 date-time; an event matches when one of its occurrences starts {}."


class EventFilterSet(ContentFilterSet):
    starts_after = extend_schema_field(
        {"type": "string", "format": "date-time", "description": _DATE_DOC.format("at or after")}
    )(StartsFilter(field_name="starts_after"))
    starts_before = extend_schema_field(
        {"type": "string", "format": "date-time", "description": _DATE_DOC.format("before")}
    )(StartsFilter(field_name="starts_before"))
    free = extend_schema_field(
        {"type": "string", "enum": ["true", "false"], "description": "Free events only, or paying."}
    )(FreeFilter(choices=[("true", "true"), ("false", "false")]))
    audience = extend_schema_field(
        {
            "type": "string",
            "pattern": "^({a})(,({a}))*$".format(a="|".join(Audience.values)),
            "description": "Comma list of audiences: " + ", ".join(Audience.values) + ".",
        }
    )(ChoiceListFilter(field_name="audience", allowed=Audience.values))
    ordering = ordering_filter(
        ["next_start_at", "start_at", "publish_at", "updated_at", "distance"], "next_start_at"
    )

    default_ordering = "next_start_at"

    class Meta(ContentFilterSet.Meta):
        model = Event
        form = EventFilterForm
