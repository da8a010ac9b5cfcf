"""GDPR: find every row about a device, generically, for the export and the erasure checks.

Nothing here lists models by name. ``device_data_sets`` walks ``Device._meta.related_objects``
(reverse foreign keys and one-to-ones, then theirs, recursively) so that a model added later
by another app — a notification delivery, its attempts — is exported, and checked by the
erasure test, without touching this module.

Export rules, per row: every concrete field except secrets — names ending in ``_hash``, binary
fields, and the names a model lists in ``gdpr_export_exclude``. A foreign key is written as
the target's ``slug`` when it has one (``"culture"``), else its id; geometries as GeoJSON;
times in ISO 8601; integer choices as their label. A model may add computed values by
defining ``gdpr_export_extra(self) -> dict`` (e.g. the text of a received push).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSGeometry
from django.db import models
from django.db.models import ForeignObjectRel, QuerySet
from django.utils import timezone

from apps.residents.models import Device

EXPORT_FORMAT = 1
_MAX_DEPTH = 4


@dataclass(frozen=True)
class DataSet:
    """Rows of ``model`` that belong to one device, reached through ``key``.

    ``key`` is the dotted chain of accessor names from the device (``places``,
    ``deliveries.attempts``); ``parent_field`` is the foreign key to the previous step.
    """

    key: str
    model: type[models.Model]
    queryset: QuerySet
    parent_field: str
    many_to_many: bool = False


def _relations(model: type[models.Model]) -> list[ForeignObjectRel]:
    """Reverse relations to ``model``: foreign keys, one-to-ones, many-to-manys of others."""
    return list(model._meta.related_objects)


def device_data_sets(device: Device) -> list[DataSet]:
    """Every set of rows about ``device``, found by walking relations from ``Device``."""
    found: list[DataSet] = []

    def walk(model: type[models.Model], key: str, lookup: str, path: tuple, depth: int) -> None:
        for rel in _relations(model):
            related = rel.related_model
            if not isinstance(related, type) or related in path:
                continue
            accessor = rel.get_accessor_name() or related._meta.model_name or ""
            sub_key = f"{key}.{accessor}" if key else accessor
            field_name = rel.field.name
            sub_lookup = field_name if lookup == "pk" else f"{field_name}__{lookup}"
            queryset = related._default_manager.filter(**{sub_lookup: device.pk})
            if rel.many_to_many:
                found.append(DataSet(sub_key, related, queryset, field_name, many_to_many=True))
                continue
            found.append(DataSet(sub_key, related, queryset, field_name))
            if depth < _MAX_DEPTH:
                walk(related, sub_key, sub_lookup, (*path, related), depth + 1)

    walk(Device, "", "pk", (Device,), 1)
    return found


def _excluded(model: type[models.Model]) -> set[str]:
    return set(getattr(model, "gdpr_export_exclude", ()))


def _export_fields(model: type[models.Model], skip: str | None) -> list[models.Field]:
    excluded = _excluded(model)
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in excluded
        and field.name != skip
        and not field.name.endswith("_hash")
        and not isinstance(field, models.BinaryField)
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, GEOSGeometry):
        return json.loads(value.geojson)
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _row(obj: models.Model, fields: list[models.Field]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        if field.is_relation and (field.many_to_one or field.one_to_one):
            target = getattr(obj, field.name)
            out[field.name] = None if target is None else getattr(target, "slug", target.pk)
        elif field.choices and isinstance(field, models.IntegerField):
            out[field.name] = str(getattr(obj, f"get_{field.name}_display")())
        elif isinstance(field, GeometryField):
            out[field.name] = _plain(getattr(obj, field.name))
        else:
            out[field.name] = _plain(getattr(obj, field.attname))
    extra = getattr(obj, "gdpr_export_extra", None)
    if callable(extra):
        out.update({key: _plain(value) for key, value in extra().items()})
    return out


def _rows(queryset: QuerySet, fields: list[models.Field]) -> list[dict[str, Any]]:
    relations = [f.name for f in fields if f.is_relation and (f.many_to_one or f.one_to_one)]
    ordered = queryset.select_related(*relations).order_by("pk")
    return [_row(obj, fields) for obj in ordered.iterator(chunk_size=2000)]


def device_export(device: Device) -> dict[str, Any]:
    """Everything held about ``device`` as JSON-ready data (one query per data set)."""
    device_fields = _export_fields(Device, skip=None)
    export: dict[str, Any] = {
        "export_format": EXPORT_FORMAT,
        "generated_at": timezone.localtime().isoformat(),
        "device": _row(device, device_fields),
    }
    for data_set in device_data_sets(device):
        # Top-level rows omit their ``device`` key: it is the device exported above.
        skip = data_set.parent_field if "." not in data_set.key else None
        if data_set.many_to_many:
            skip = None
        export[data_set.key] = _rows(data_set.queryset, _export_fields(data_set.model, skip=skip))
    return export
