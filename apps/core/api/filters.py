"""Shared list filters of news, works and events (architecture.md §5): one django-filter FilterSet.

Every parameter is parsed by a form field that rejects what it cannot read (400 with the error
shape, never a 500); cross-parameter rules (``radius`` needs ``near``, ``ordering=distance``
needs ``near``, unknown slugs) live in ``ContentFilterForm.clean``, which also resolves every
slug of ``category``/``area``/``organization`` in one SQL query.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.contrib.gis.geos import Point, Polygon
from django.db import connection
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from apps.core.api.params import (
    BBoxField,
    CommaListField,
    LatLonField,
    LenientDateTimeField,
)
from apps.core.geo import WGS84, annotate_distance_m, within_m
from apps.core.models import Area, Category, Organization
from apps.core.search import MAX_QUERY_LENGTH, SearchTextField, search

#: ``radius`` in metres when ``near`` comes alone, and the largest accepted.
RADIUS_DEFAULT_M = 1000
RADIUS_MAX_M = 50_000


class ContentFilterForm(forms.Form):
    """Cross-parameter validation, and one query resolving every taxonomy slug to an id."""

    TAXONOMY: ClassVar[dict[str, Any]] = {
        "category": Category,
        "area": Area,
        "organization": Organization,
    }

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("radius") is not None and cleaned.get("near") is None:
            self.add_error("radius", _("« radius » demande « near »."))
        ordering = cleaned.get("ordering") or ""
        if ordering.lstrip("-") == "distance" and cleaned.get("near") is None:
            self.add_error("ordering", _("Le tri par distance demande « near »."))
        self._resolve_taxonomy(cleaned)
        return cleaned

    def _resolve_taxonomy(self, cleaned: dict[str, Any]) -> None:
        wanted: dict[str, list[str]] = {
            name: cleaned[name] for name in self.TAXONOMY if cleaned.get(name)
        }
        if not wanted:
            return
        # One UNION query for every slug (plain SQL: modeltranslation reorders the columns of
        # a translated model's values_list, which would misalign an ORM union).
        selects, params = [], []
        for name, slugs in wanted.items():
            table = connection.ops.quote_name(self.TAXONOMY[name]._meta.db_table)
            marks = ", ".join(["%s"] * len(slugs))
            selects.append(f"SELECT %s, slug, id FROM {table} WHERE slug IN ({marks})")
            params += [name, *slugs]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(selects), params)
            union = cursor.fetchall()
        found: dict[str, dict[str, int]] = {name: {} for name in wanted}
        for kind, slug, pk in union:
            found[kind][slug] = pk
        for name, slugs in wanted.items():
            unknown = [slug for slug in slugs if slug not in found[name]]
            if unknown:
                self.add_error(
                    name,
                    _("Inconnu dans « %(kind)s » : %(s)s.")
                    % {"kind": name, "s": ", ".join(unknown)},
                )
            else:
                cleaned[name] = [found[name][slug] for slug in slugs]


class FormFieldFilter(django_filters.Filter):
    """A filter whose value is parsed by ``field_class`` and applied by ``apply``."""

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value is None or (isinstance(value, str | list) and not value):
            return qs
        return self.apply(qs, value)

    def apply(self, qs: QuerySet, value: Any) -> QuerySet:
        return qs

    @property
    def cleaned(self) -> dict[str, Any]:
        return self.parent.form.cleaned_data


class NearFilter(FormFieldFilter):
    field_class = LatLonField

    def apply(self, qs: QuerySet, value: Point) -> QuerySet:
        radius = self.cleaned.get("radius") or RADIUS_DEFAULT_M
        return annotate_distance_m(within_m(qs, value, radius), value)


class BBoxFilter(FormFieldFilter):
    field_class = BBoxField

    def apply(self, qs: QuerySet, value: Polygon) -> QuerySet:
        value.srid = WGS84
        return qs.filter(geometry__intersects=value)


class TaxonomyFilter(FormFieldFilter):
    """``category``/``organization`` (foreign keys) and ``area`` (many-to-many) by slug."""

    field_class = CommaListField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("slugs", True)
        super().__init__(*args, **kwargs)

    def apply(self, qs: QuerySet, value: list[int]) -> QuerySet:
        if self.field_name == "areas":
            through = qs.model.areas.through
            owner = f"{qs.model._meta.model_name}_id"
            return qs.filter(
                Exists(through.objects.filter(**{owner: OuterRef("pk"), "area_id__in": value}))
            )
        return qs.filter(**{f"{self.field_name}_id__in": value})


class SearchFilter(FormFieldFilter):
    field_class = SearchTextField

    def apply(self, qs: QuerySet, value: str) -> QuerySet:
        return search(qs, value)


class ChoiceListFilter(FormFieldFilter):
    """A comma list of enum values; ``field_name__in`` unless ``apply`` says otherwise."""

    field_class = CommaListField

    def apply(self, qs: QuerySet, value: list[str]) -> QuerySet:
        return qs.filter(**{f"{self.field_name}__in": value})


class RadiusFilter(FormFieldFilter):
    """Read by ``NearFilter``; alone it is an error (see ``ContentFilterForm``)."""

    field_class = forms.FloatField


class DateTimeFromFilter(FormFieldFilter):
    """``field_name >= value`` with a lenient ISO 8601 parser."""

    field_class = LenientDateTimeField

    def apply(self, qs: QuerySet, value: Any) -> QuerySet:
        return qs.filter(**{f"{self.field_name}__gte": value})


class OrderingFilter(FormFieldFilter):
    """One ordering key (``-`` for descending); the filterset applies it last, with a tiebreak."""

    field_class = forms.ChoiceField


def ordering_filter(keys: list[str], default: str) -> OrderingFilter:
    choices = [(value, value) for key in keys for value in (key, f"-{key}")]
    return extend_schema_field(
        {
            "type": "string",
            "enum": [value for value, _label in choices],
            "description": (
                f"Sort key, `-` for descending (default `{default}`; by relevance when `q` is "
                "given). `distance` needs `near`. Ties are broken by `id`, so pages are stable."
            ),
        }
    )(OrderingFilter(choices=choices))


def _documented(filter_: Any, schema: dict[str, Any]) -> Any:
    return extend_schema_field(schema)(filter_)


def _slug_list(what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": r"^[-a-zA-Z0-9_]+(,[-a-zA-Z0-9_]+)*$",
        "description": f"Comma list of {what} slugs (any of them); an unknown slug is a 400.",
        "example": "",
    }


class ContentFilterSet(django_filters.FilterSet):
    """The filters every content list shares; subclasses add their type's own and ``ordering``."""

    near = _documented(
        NearFilter(),
        {
            "type": "string",
            "pattern": r"^-?[0-9.]+,-?[0-9.]+$",
            "description": (
                "`lat,lon` (WGS 84 degrees): keep items within `radius` metres of this point "
                "(measured to the nearest point of a line or area) and add `distance_m`."
            ),
            "example": "45.7640,4.8357",
        },
    )
    radius = _documented(
        RadiusFilter(min_value=1, max_value=RADIUS_MAX_M),
        {
            "type": "number",
            "minimum": 1,
            "maximum": RADIUS_MAX_M,
            "description": (
                f"Metres around `near` (default {RADIUS_DEFAULT_M}, at most {RADIUS_MAX_M})."
            ),
        },
    )
    bbox = _documented(
        BBoxFilter(),
        {
            "type": "string",
            "description": (
                "`minlon,minlat,maxlon,maxlat` (WGS 84): keep items whose geometry intersects "
                "this box."
            ),
            "example": "4.80,45.74,4.87,45.78",
        },
    )
    area = _documented(TaxonomyFilter(field_name="areas"), _slug_list("area"))
    category = _documented(TaxonomyFilter(field_name="category"), _slug_list("category"))
    organization = _documented(
        TaxonomyFilter(field_name="organization"), _slug_list("organization")
    )
    q = _documented(
        SearchFilter(),
        {
            "type": "string",
            "maxLength": MAX_QUERY_LENGTH,
            "description": (
                "Full-text search in titles, summaries and bodies, French and English, with "
                "stemming and without accents (`travaux`, `concerts`, `theatre`). Quotes, `or` "
                "and `-word` work as in a web search engine."
            ),
        },
    )
    updated_since = _documented(
        DateTimeFromFilter(field_name="updated_at"),
        {
            "type": "string",
            "format": "date-time",
            "description": (
                "Only items changed at or after this ISO 8601 time (inclusive) — for sync; "
                "learn about removed items from `/api/v1/removed/`."
            ),
        },
    )

    class Meta:
        form = ContentFilterForm
        fields: ClassVar[list[str]] = []

    #: The default sort key (subclasses); the view adds ``id`` as the tiebreaker.
    default_ordering: ClassVar[str] = "-publish_at"
    #: Public ordering keys that map to another annotation or field.
    ordering_fields: ClassVar[dict[str, str]] = {"distance": "distance_m"}

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        return self.order(queryset)

    def order(self, queryset: QuerySet) -> QuerySet:
        cleaned = self.form.cleaned_data
        key = cleaned.get("ordering")
        if not key and cleaned.get("q") and "search_rank" in queryset.query.annotations:
            return queryset.order_by(F("search_rank").desc(), "-id")
        key = key or self.default_ordering
        descending = key.startswith("-")
        name = self.ordering_fields.get(key.lstrip("-"), key.lstrip("-"))
        expression = F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
        return queryset.order_by(expression, "-id" if descending else "id")
