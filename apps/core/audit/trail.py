"""Read the audit trail: every history table, filtered by period, organization or item, turned
into who / when / what changed rows (one per field that changed).

The history tables are found from the app registry (every model whose history is an
``AuditedHistory``) and scoped by what they hold: an ``organization`` (content, memberships,
API keys), the organization itself, a parent item (links, attachments, periods, dates), an
``item_type``/``item_id`` pair (notifications), or nothing (areas, categories, venues: shared
reference data, in the trail of the whole city only).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.gis.geos import GEOSGeometry, WKTWriter
from django.core.exceptions import ValidationError
from django.db.models import Max, Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.disclosure import Cell, count_show, counter_key
from apps.core.models import AuditedHistory, Organization, PublishableContent

#: A CADA export covers at most this many history records (a larger request: a shorter period).
EXPORT_MAX_RECORDS = 50_000
#: Longest period of one export, in days.
EXPORT_MAX_DAYS = 366
ACTIONS = {"+": "création", "~": "modification", "-": "suppression"}
#: Columns every history table has and the trail shows apart (never as a changed field).
_OWN = {"id", "history_id", "history_date", "history_change_reason", "history_type"}


@dataclass(frozen=True)
class TrailFilter:
    """What a CADA export covers: a period, and optionally one organization or one item."""

    since: datetime
    until: datetime
    organization_id: int | None = None
    item_type: str | None = None
    item_id: int | None = None

    def check(self) -> None:
        """Refuse a filter that would make an unbounded export (``ValidationError``)."""
        if self.until <= self.since:
            raise ValidationError(_("La fin de la période doit suivre son début."))
        if (self.until - self.since).days > EXPORT_MAX_DAYS:
            raise ValidationError(
                _("La période couvre au plus %(days)d jours.") % {"days": EXPORT_MAX_DAYS}
            )
        if (self.item_type is None) != (self.item_id is None):
            raise ValidationError(_("Un contenu se désigne par son type et son numéro."))
        if self.item_type is not None and self.item_type not in content_by_code():
            raise ValidationError(_("Type de contenu inconnu."))


@dataclass(frozen=True)
class TrailRow:
    """One line of the trail: a field of one object changed (or the object created, deleted)."""

    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: int
    object_label: str
    organization: str
    field: str
    old: str
    new: str
    reason: str


@cache
def content_by_code() -> dict[str, type[PublishableContent]]:
    return {m.type_code: m for m in apps.get_models() if issubclass(m, PublishableContent)}


def history_models() -> list[type[Model]]:
    """Every history table of the trail, in a stable order."""
    found = [m for m in apps.get_models() if issubclass(m, AuditedHistory)]
    return sorted(found, key=lambda m: m._meta.label)


def _field_names(history: type[Model]) -> set[str]:
    return {f.name for f in history._meta.fields}


def _parent(history: type[Model]) -> tuple[str, type[PublishableContent]] | None:
    """``(column, content model)`` of a history table whose rows belong to an item."""
    source = history.instance_type  # type: ignore[attr-defined]
    for field in source._meta.fields:
        target = getattr(field, "related_model", None)
        if (
            target is not None
            and isinstance(target, type)
            and issubclass(target, PublishableContent)
        ):
            return field.attname, target
    return None


def _scoped(history: type[Model], flt: TrailFilter) -> QuerySet | None:
    """The rows of ``history`` the filter covers (``None``: none of them)."""
    rows = history.objects.all()  # type: ignore[attr-defined]
    names = _field_names(history)
    source = history.instance_type  # type: ignore[attr-defined]
    parent = _parent(history)
    if flt.item_type is not None:
        model = content_by_code()[flt.item_type]
        if source is model:
            return rows.filter(id=flt.item_id)
        if parent is not None and parent[1] is model:
            return rows.filter(**{parent[0]: flt.item_id})
        if {"item_type", "item_id"} <= names:
            return rows.filter(item_type=flt.item_type, item_id=flt.item_id)
        return None
    if flt.organization_id is None:
        return rows
    if source is Organization:
        return rows.filter(id=flt.organization_id)
    if "organization" in names:
        return rows.filter(organization_id=flt.organization_id)
    if parent is not None:
        parent_history = parent[1].history.model  # type: ignore[attr-defined]
        ids = parent_history.objects.filter(organization_id=flt.organization_id).values("id")
        return rows.filter(**{f"{parent[0]}__in": ids})
    if {"item_type", "item_id"} <= names:
        q = Q()
        for code, model in content_by_code().items():
            ids = model.history.model.objects.filter(  # type: ignore[attr-defined]
                organization_id=flt.organization_id
            ).values("id")
            q |= Q(item_type=code, item_id__in=ids)
        return rows.filter(q)
    return None  # shared reference data: only in the whole city's trail


def _querysets(flt: TrailFilter) -> list[tuple[type[Model], QuerySet]]:
    found = []
    for history in history_models():
        rows = _scoped(history, flt)
        if rows is not None:
            found.append(
                (history, rows.filter(history_date__gte=flt.since, history_date__lt=flt.until))
            )
    return found


def records_count(flt: TrailFilter) -> int:
    return sum(rows.count() for _history, rows in _querysets(flt))


def translated_originals(source: type[Model]) -> set[str]:
    """``title`` of ``title_fr``/``title_en``: the language-less column is not shown."""
    try:
        from modeltranslation.translator import NotRegistered, translator
    except ImportError:  # pragma: no cover - modeltranslation is installed
        return set()
    try:
        return set(translator.get_options_for_model(source).fields)  # type: ignore[attr-defined]
    except NotRegistered:
        return set()


def _shown_fields(history: type[Model]) -> list[Any]:
    source = history.instance_type  # type: ignore[attr-defined]
    hidden = (
        _OWN
        | translated_originals(source)
        | {f.name for f in AuditedHistory._meta.fields}
        | {"history_user"}
    )
    return [f for f in history._meta.fields if f.name not in hidden]


def _value(field: Any, value: Any, row: Any, masked: tuple[str, ...]) -> str:
    if value is None or value == "":
        return ""
    if field.name in masked:
        shown = count_show(Cell(int(value), counter_key(f"{field.name}:{row.id}", int(value))))
        return str(shown)
    if isinstance(value, GEOSGeometry):
        return geometry_text(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if field.is_relation:
        return f"#{value}"
    return str(value)


#: Geometries up to this many points are written out (WKT); larger ones are summarised.
WKT_MAX_POINTS = 50


def geometry_text(geometry: GEOSGeometry) -> str:
    """A geometry as a reader of the export can compare: its WKT (1e-6 degrees, ~10 cm) when
    small, else its type, size and a fingerprint that changes whenever it does."""
    if geometry.num_points <= WKT_MAX_POINTS:
        return WKTWriter(precision=6).write(geometry).decode()
    fingerprint = hashlib.sha256(bytes(geometry.wkb)).hexdigest()[:12]
    return _("%(kind)s de %(points)d points (empreinte %(fingerprint)s)") % {
        "kind": geometry.geom_type,
        "points": geometry.num_points,
        "fingerprint": fingerprint,
    }


def _label(row: Any) -> str:
    for name in ("title_fr", "title", "name_fr", "name"):
        value = getattr(row, name, None)
        if value:
            return str(value)
    return f"#{row.id}"


def _previous(history: type[Model], rows: list[Any], since: datetime) -> dict[int, Any]:
    """The last record before ``since`` of each object (to diff the first record in range)."""
    ids = {r.id for r in rows}
    last = (
        history.objects.filter(id__in=ids, history_date__lt=since)  # type: ignore[attr-defined]
        .values("id")
        .annotate(last=Max("history_id"))
        .values_list("last", flat=True)
    )
    return {
        r.id: r
        for r in history.objects.filter(history_id__in=list(last))  # type: ignore[attr-defined]
    }


def _organizations(history: type[Model], rows: list[Any]) -> dict[int, int | None]:
    """Object id → organization id, for the rows of ``history``."""
    names = _field_names(history)
    source = history.instance_type  # type: ignore[attr-defined]
    if source is Organization:
        return {r.id: r.id for r in rows}
    if "organization" in names:
        return {r.id: r.organization_id for r in rows}
    parent = _parent(history)
    if parent is not None:
        parent_ids = {getattr(r, parent[0]) for r in rows}
        parents = dict(
            parent[1]
            .history.model.objects.filter(id__in=parent_ids)  # type: ignore[attr-defined]
            .values_list("id", "organization_id")
            .distinct()
        )
        return {r.id: parents.get(getattr(r, parent[0])) for r in rows}
    return {}


def trail_rows(flt: TrailFilter) -> Iterator[TrailRow]:
    """The trail's rows, oldest first within each table, tables in a stable order.

    Queries: a count per table (``records_count``, by the caller), then per table with rows
    in range: the rows, the records before the period, the parents' organizations.
    """
    names = dict(Organization.objects.values_list("id", "name"))
    for history, queryset in _querysets(flt):
        rows = list(queryset.order_by("id", "history_date", "history_id"))
        if not rows:
            continue
        source = history.instance_type  # type: ignore[attr-defined]
        masked = tuple(getattr(source, "audit_masked_counts", ()))
        fields = _shown_fields(history)
        previous = _previous(history, rows, flt.since)
        organizations = _organizations(history, rows)
        object_type = str(source._meta.verbose_name)
        for row in rows:
            before = previous.get(row.id)
            previous[row.id] = row
            org_id = organizations.get(row.id)
            common = {
                "at": row.history_date,
                "actor": row.history_actor,
                "role": row.history_role,
                "action": ACTIONS[row.history_type],
                "object_type": object_type,
                "object_id": row.id,
                "object_label": _label(row),
                "organization": names.get(org_id, "") if org_id is not None else "",
                "reason": row.history_change_reason or "",
            }
            changes = []
            if row.history_type != "-":
                for field in fields:
                    new = _value(field, getattr(row, field.attname), row, masked)
                    old = (
                        _value(field, getattr(before, field.attname), before, masked)
                        if before is not None and row.history_type == "~"
                        else ""
                    )
                    if old != new:
                        changes.append((str(field.verbose_name), old, new))
            if not changes:
                changes.append(("", "", ""))
            for field_name, old, new in changes:
                yield TrailRow(field=field_name, old=old, new=new, **common)
