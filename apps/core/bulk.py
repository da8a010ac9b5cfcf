"""Bulk writes of content: many new items validated in Python, inserted in batches, areas in one
statement, one batch signal instead of one per item (imports' first runs, bench/README.md).

Every bulk insert of the project goes through ``rows_create``: it is the one place where a
write of many rows happens, so that whatever must follow each row (history, audit) is attached
there once. The content functions keep the rules of the one-by-one path (``content_save``,
``content_publish`` of ``apps.core.services``); tests compare both paths row for row
(``tests/interop/test_bulk.py``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Q
from django.utils.translation import gettext as _

from apps.core import signals
from apps.core.geo.sql import IsValidGeometry
from apps.core.models import PublishableContent, Status, Tombstone
from apps.core.services import _drill_marked

M = TypeVar("M", bound=models.Model)
C = TypeVar("C", bound=PublishableContent)

#: Rows per INSERT statement (and per ``ANY(%s)`` of the areas statement).
BATCH_SIZE = 500


def rows_create(model: type[M], rows: Sequence[M], *, batch_size: int = BATCH_SIZE) -> list[M]:
    """Insert ``rows`` of ``model`` in batches (``bulk_create``); the rows get their ids.

    The one bulk insert of the bulk paths: an audited model (django-simple-history) gets its
    "created" history rows here too (``bulk_create_with_audit``, the actor of ``acting_as``).
    """
    if not rows:
        return []
    if getattr(model._meta, "simple_history_manager_attribute", None):
        from apps.core.audit.actors import bulk_create_with_audit

        created = bulk_create_with_audit(model, list(rows), batch_size=batch_size)
        return cast(list[M], created)
    return model._default_manager.bulk_create(list(rows), batch_size=batch_size)


# --------------------------------------------------------------------------------------------
# Check constraints evaluated in Python
# --------------------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


class NotExpressibleError(Exception):
    """A condition this evaluator does not know: the constraint is checked by the database."""


def _value(obj: models.Model, value: Any) -> Any:
    if isinstance(value, F):
        return _field_value(obj, value.name)  # type: ignore[attr-defined]
    if isinstance(value, models.Expression):
        raise NotExpressibleError(repr(value))
    return value


def _field_value(obj: models.Model, name: str) -> Any:
    field = obj._meta.get_field(name)
    return getattr(obj, field.attname)  # type: ignore[union-attr]


def _leaf(obj: models.Model, lookup: str, expected: Any) -> bool | None:
    """One ``field__lookup=value`` in SQL's three-valued logic (``None``: unknown)."""
    name, _sep, kind = lookup.partition("__")
    kind = kind or "exact"
    actual = _field_value(obj, name)
    if kind == "isnull":
        return (actual is None) == bool(expected)
    expected = _value(obj, expected)
    if kind == "in":
        if actual is None:
            return None
        return actual in list(expected)
    compare = _COMPARE.get(kind)
    if compare is None:
        raise NotExpressibleError(lookup)
    if actual is None or expected is None:
        return None
    return compare(actual, expected)


def _holds(obj: models.Model, condition: Any) -> bool | None:
    """``condition`` (a ``Q`` tree or ``IsValidGeometry``) for ``obj``, as SQL would judge it."""
    if isinstance(condition, IsValidGeometry):
        (expression,) = condition.get_source_expressions()
        if not isinstance(expression, F):
            raise NotExpressibleError(repr(condition))
        geometry = _field_value(obj, expression.name)  # type: ignore[attr-defined]
        if geometry is None:
            return None
        return isinstance(geometry, GEOSGeometry) and geometry.valid
    if not isinstance(condition, Q):
        raise NotExpressibleError(repr(condition))
    results = [
        _leaf(obj, child[0], child[1]) if isinstance(child, tuple) else _holds(obj, child)
        for child in condition.children
    ]
    if condition.connector == Q.AND:
        result: bool | None = False if False in results else (None if None in results else True)
    else:
        result = True if True in results else (None if None in results else False)
    if condition.negated and result is not None:
        result = not result
    return result


def constraints_check(obj: models.Model) -> None:
    """Validate ``obj``'s check constraints as the database would, in Python.

    ``full_clean`` runs one query per check constraint; evaluated here with the values of the
    instance (a ``NULL`` result passes, as in SQL). A condition the evaluator does not know
    falls back to the constraint's own (SQL) validation. Raises ``ValidationError`` like
    ``full_clean``.
    """
    errors: list[ValidationError] = []
    for constraint in obj._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        try:
            passed = _holds(obj, constraint.condition) is not False
        except NotExpressibleError:
            try:
                constraint.validate(type(obj), obj)
            except ValidationError as exc:
                errors.append(exc)
            continue
        if not passed:
            errors.append(ValidationError(constraint.get_violation_error_message()))
    if errors:
        raise ValidationError(errors)


class RowRefusedError(ValidationError):
    """A row of a batch is invalid: ``row`` is the one refused (``None``: the batch as a whole,
    a missing foreign key or a duplicate)."""

    def __init__(self, error: ValidationError, *, row: models.Model | None) -> None:
        super().__init__(error)
        self.row = row


def _related_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.is_relation]


def rows_validate(rows: Sequence[models.Model], *, unique: Sequence[str] = ()) -> None:
    """``full_clean`` of many new rows in a handful of queries.

    Field validation runs per row in Python; foreign keys are checked once per distinct target
    (one query per relation), check constraints in Python (``constraints_check``), and the
    ``unique`` fields with one query each for the whole batch.
    """
    if not rows:
        return
    model = type(rows[0])
    related = _related_fields(model)
    for row in rows:
        try:
            row.full_clean(exclude=related, validate_unique=False, validate_constraints=False)
            constraints_check(row)
        except ValidationError as exc:
            raise RowRefusedError(exc, row=row) from exc
    for name in related:
        field: Any = model._meta.get_field(name)
        wanted = {getattr(row, field.attname) for row in rows} - {None}
        if not wanted:
            continue
        target = field.remote_field.model
        column = field.target_field.attname
        found = set(
            target._base_manager.filter(**{f"{column}__in": wanted}).values_list(column, flat=True)
        )
        if wanted - found:
            error = {name: _("%(model)s introuvable.") % {"model": target._meta.verbose_name}}
            raise RowRefusedError(ValidationError(error), row=None)
    for name in unique:
        values = [getattr(row, name) for row in rows]
        taken = model._base_manager.filter(**{f"{name}__in": values}).exists()
        if taken or len(set(values)) != len(values):
            error = {name: _("Cette valeur est déjà utilisée.")}
            raise RowRefusedError(ValidationError(error), row=None)


# --------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------


def content_areas_bulk_refresh(*, model: type[PublishableContent], ids: Sequence[int]) -> None:
    """Set the areas of the new items ``ids`` in one ``INSERT … SELECT`` per batch.

    The same test as ``content_areas_refresh`` (``ST_Intersects`` of the area's outline and the
    item's geometry; none for a city-wide item), for every item at once. The items must have
    no areas yet (new rows).
    """
    relation: Any = model._meta.get_field("areas")
    through: Any = relation.remote_field.through
    item_column = through._meta.get_field(relation.m2m_field_name()).column
    area_column = through._meta.get_field(relation.m2m_reverse_field_name()).column
    area_table = relation.remote_field.model._meta.db_table
    statement = (
        f'INSERT INTO "{through._meta.db_table}" ("{item_column}", "{area_column}") '
        f'SELECT i."id", a."id" FROM "{model._meta.db_table}" i '
        f'JOIN "{area_table}" a ON ST_Intersects(a."geometry", i."geometry") '
        f'WHERE i."id" = ANY(%s) AND i."geometry" IS NOT NULL'
    )
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH_SIZE):
            cursor.execute(statement, [list(ids[start : start + BATCH_SIZE])])


def contents_create(
    *,
    model: type[C],
    items: Sequence[C],
    publish_at: datetime | None = None,
) -> list[C]:
    """Create many new drafts of ``model``, publishing those not over when ``publish_at`` is set.

    What ``content_save`` then ``content_publish`` do for one item, for all of them: the drill
    mark, validation (``rows_validate``), the insert, the areas, the tombstones, and the
    signals once per batch: ``contents_saved`` (caches, outboxes) and ``contents_published``
    (pushes, CAP) with the items made public, are sent by ``contents_announce`` once the
    caller has written the items' parts. Raises ``ValidationError`` before
    writing anything if one item is refused.
    """
    if not items:
        return []
    for item in items:
        if item.pk is not None or item.status != Status.DRAFT:
            error = ValidationError(_("Un nouveau contenu est créé en brouillon."))
            raise RowRefusedError(error, row=item)
        if item.exercise:
            _drill_marked(item)
    rows_validate(items, unique=("uuid",))
    published: list[C] = []
    if publish_at is not None:
        for item in items:
            if item.is_over(publish_at):
                continue
            if item.expires_at is not None and item.expires_at <= publish_at:
                error = ValidationError(
                    _("Ce contenu a déjà expiré : modifiez sa date d'expiration.")
                )
                raise RowRefusedError(error, row=item)
            item.status = Status.PUBLISHED
            item.published_at = publish_at
            if item.publish_at is None or item.publish_at > publish_at:
                item.publish_at = publish_at
            published.append(item)
    rows_create(model, items)
    ids = [item.pk for item in items]
    content_areas_bulk_refresh(model=model, ids=ids)
    if published:
        Tombstone.objects.filter(
            item_type=model.type_code, item_id__in=[item.pk for item in published]
        ).delete()
    return list(items)


def contents_announce(*, model: type[C], items: Sequence[C]) -> None:
    """Send the batch signals of new ``items`` (after their parts are written, as one by one
    ``content_saved`` follows the save of the item and its parts)."""
    if not items:
        return
    public = [item for item in items if item.status == Status.PUBLISHED]
    if public:
        signals.contents_published.send(sender=model, items=public)
    signals.contents_saved.send(
        sender=model, item_type=model.type_code, item_ids=[item.pk for item in items]
    )
