"""Serialize mixed news/works/events items with the list fields, in constant SQL queries.

This is the API a mixed feed builds on (architecture.md §5: feed items carry the list fields)::

    from apps.core.api.items import items_fetch, serialize_items

    items = items_fetch([("events", 12), ("news", 7), ("works", 3)], near=point)  # ≤ 3 queries
    data = serialize_items(items, request=request)  # no query; same order as the refs

Each content app registers its list serializer and list selector (public items with the joins
and annotations the serializer reads) from its ``AppConfig.ready``; core never imports the
content apps. ``serialize_items`` accepts any items fetched through the registered selectors
(``list_queryset(type_code)``), in any order and mix.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import GEOSGeometry
from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators
from django.db.models.sql.constants import MULTI
from django.utils import timezone
from rest_framework import serializers

from apps.core.geo import annotate_distance_m
from apps.core.models import PublishableContent


@dataclass(frozen=True)
class ListItemType:
    """How one content type is listed: its serializer and its public list selector."""

    type_code: str
    serializer: type[serializers.Serializer]
    queryset: Callable[[], QuerySet]


_TYPES: dict[str, ListItemType] = {}


def register_list_item(
    type_code: str,
    *,
    serializer: type[serializers.Serializer],
    queryset: Callable[[], QuerySet],
) -> None:
    """Declare how ``type_code`` items are listed (content apps call it in ``ready``)."""
    _TYPES[type_code] = ListItemType(type_code, serializer, queryset)


def list_item_types() -> dict[str, ListItemType]:
    return dict(sorted(_TYPES.items()))


def list_item_serializer(type_code: str) -> type[serializers.Serializer]:
    """The list item serializer of a type (e.g. for a feed's ``oneOf`` schema)."""
    return _TYPES[type_code].serializer


def list_queryset(type_code: str, *, near: GEOSGeometry | None = None) -> QuerySet:
    """Public items of ``type_code``, ready for ``serialize_items`` (``distance_m`` if near)."""
    queryset = _TYPES[type_code].queryset()
    if near is not None:
        queryset = annotate_distance_m(queryset, near)
    return queryset


def items_fetch(
    refs: Iterable[tuple[str, int]], *, near: GEOSGeometry | None = None
) -> list[PublishableContent]:
    """Load ``(type, id)`` refs, public items only, in the refs' order: one query per type."""
    refs = list(refs)
    wanted: dict[str, list[int]] = defaultdict(list)
    for type_code, pk in refs:
        wanted[type_code].append(pk)
    found: dict[tuple[str, int], PublishableContent] = {}
    for type_code, ids in wanted.items():
        items: Iterable[PublishableContent]
        compiled = _compiled_list(_TYPES[type_code])
        if near is None and connections[compiled.db].vendor == "postgresql":
            items = compiled.fetch(ids)
        else:
            items = list_queryset(type_code, near=near).filter(pk__in=ids).order_by()
        for item in items:
            found[(type_code, item.pk)] = item
    return [found[ref] for ref in refs if ref in found]


#: Stands for the ids in a compiled list statement (``= ANY(%s)``: one array parameter).
_IDS = [-7_000_000_002]


class _CompiledList:
    """A type's list selector compiled once per process (PostgreSQL, no ``near``).

    Building and compiling a list queryset (joins, deferred columns, annotations) costs
    Django more than running it (bench/README.md): a feed page loads up to three types. The
    statement is compiled once with the ids as one array parameter; the selector's "now" (the
    datetime parameters taken while it was built) is replaced by the time of each call, and
    rows become model instances as ``QuerySet`` iteration makes them (``ModelIterable``).
    """

    def __init__(self, item_type: ListItemType) -> None:
        before = timezone.now()
        queryset = item_type.queryset()
        after = timezone.now()
        model = queryset.model
        ops = connections[queryset.db].ops
        column = f"{ops.quote_name(model._meta.db_table)}.{ops.quote_name(model._meta.pk.column)}"
        queryset = queryset.filter(
            RawSQL(f"{column} = ANY(%s)", (_IDS,), output_field=BooleanField())
        ).order_by()
        self.db = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = self.compiler.as_sql()  # also fills select, klass_info, annotations
        self.params = tuple(params)
        self.now_at = [
            k for k, p in enumerate(self.params) if isinstance(p, datetime) and before <= p <= after
        ]
        self.ids_at = [k for k, p in enumerate(self.params) if p is _IDS]
        if len(self.ids_at) != 1:
            raise RuntimeError(f"cannot compile the {item_type.type_code} list selector")
        select, klass_info = self.compiler.select, self.compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.annotations = list(self.compiler.annotation_col_map.items())

    def fetch(self, ids: Sequence[int]) -> list[PublishableContent]:
        params = list(self.params)
        params[self.ids_at[0]] = [int(i) for i in ids]
        now = timezone.now()
        for k in self.now_at:
            params[k] = now
        connection = connections[self.db]  # this thread's
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        # The compiler's converters read the connection's operations: give it this thread's.
        compiler = copy.copy(self.compiler)
        compiler.connection = connection
        # Django 5.2's signature (the type stubs follow a later release).
        klass_info, select = self.compiler.klass_info, self.compiler.select
        populators = get_related_populators(klass_info, select, self.db)  # type: ignore[call-arg]
        items = []
        for row in compiler.results_iter([rows]):
            item = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
            for populator in populators:
                populator.populate(row, item)
            for name, position in self.annotations:
                setattr(item, name, row[position])
            items.append(item)
        return items


class PageRows:
    """A page of a list queryset, run once: raw rows, and model instances of chosen rows only.

    Django builds a model instance (and its related ones) for every row a queryset yields; a
    page served from pre-rendered fragments needs only each row's id, ``updated_at`` and
    ``distance_m``. The rows are read with the queryset's own compiler (same SQL, same
    converters), and instances are made (as ``ModelIterable`` makes them) only for the rows
    whose fragment is missing.
    """

    def __init__(self, queryset: QuerySet) -> None:
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        # Raw rows: the columns' converters (geometries into GEOS objects…) run only for the
        # rows that become instances, and for the version columns.
        self.rows = [
            row for chunk in compiler.execute_sql(MULTI) or () for row in chunk
        ]  # also fills select, klass_info, annotations
        self.compiler = compiler
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.pk_at = self.start + self.init_list.index(self.model._meta.pk.attname)
        self.updated_at = self.start + self.init_list.index("updated_at")
        self.annotations = list(compiler.annotation_col_map.items())
        self.distance_at = compiler.annotation_col_map.get("distance_m")
        self.converters = compiler.get_converters([s[0] for s in select[0 : compiler.col_count]])

    def _converted(self, rows: list[Any], positions: set[int] | None = None) -> list[Any]:
        converters = self.converters
        if positions is not None:
            converters = {k: v for k, v in converters.items() if k in positions}
        if not converters:
            return rows
        return list(self.compiler.apply_converters(rows, converters))

    def versions(self) -> list[tuple[int, datetime, float | None]]:
        """``(id, updated_at, distance_m or None)`` of each row, in order."""
        d = self.distance_at
        wanted = {self.pk_at, self.updated_at, *([] if d is None else [d])}
        return [
            (row[self.pk_at], row[self.updated_at], None if d is None else row[d])
            for row in self._converted(self.rows, wanted)
        ]

    def instances(self, positions: Sequence[int]) -> list[PublishableContent]:
        """Model instances of the rows at ``positions``, as the queryset would have made them."""
        klass_info, select = self.compiler.klass_info, self.compiler.select
        populators = get_related_populators(klass_info, select, self.db)  # type: ignore[call-arg]
        items = []
        rows = self._converted([self.rows[p] for p in positions])
        for row in rows:
            item = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
            for populator in populators:
                populator.populate(row, item)
            for name, column in self.annotations:
                setattr(item, name, row[column])
            items.append(item)
        return items


_COMPILED: dict[ListItemType, _CompiledList] = {}


def _compiled_list(item_type: ListItemType) -> _CompiledList:
    compiled = _COMPILED.get(item_type)
    if compiled is None:
        compiled = _COMPILED[item_type] = _CompiledList(item_type)
    return compiled


def _bound_serializer(type_code: str, context: dict[str, Any]) -> serializers.Serializer:
    """A serializer of ``type_code`` whose fields are built once per thread.

    Building a ``ModelSerializer``'s fields (and its nested ones) costs more than serializing
    twenty items with them; the list item serializers keep no state between items, so one
    instance per type and thread serves every call (its context is set for each call).
    """
    cached: dict[str, serializers.Serializer] = _LOCAL.__dict__.setdefault("serializers", {})
    serializer = cached.get(type_code)
    if serializer is None or serializer.__class__ is not _TYPES[type_code].serializer:
        serializer = cached[type_code] = _TYPES[type_code].serializer(context=context)
        serializer.fields  # noqa: B018 - builds and caches the fields now
    serializer._context = context
    return serializer


_LOCAL = threading.local()


def serialize_items(
    items: Sequence[PublishableContent], *, request: Any = None
) -> list[dict[str, Any]]:
    """The list representation of mixed items, in their order; runs no SQL query.

    Items must come from ``items_fetch`` or ``list_queryset`` (they carry the joins and
    annotations the serializers read). ``distance_m`` appears on items annotated with it.
    """
    context = {"request": request}
    return [
        dict(_bound_serializer(item.type_code, context).to_representation(item)) for item in items
    ]
