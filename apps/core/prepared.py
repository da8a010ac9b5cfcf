"""Statements that stay prepared on PostgreSQL: typed array parameters, one plan per text.

Django binds parameters on the client, so PostgreSQL plans every statement it runs. For the
few statements a hot path runs with the same text on every request (the feed's candidates,
the items of a page by ids, a resident's inputs) ``run_prepared`` executes them as prepared
statements: planned once per connection, then executed.

Two things keep one prepared statement per text (bench/README.md, "Plans that stay
prepared"):

- **types**: psycopg types an ``int`` list by its values (``smallint[]`` for small ids,
  ``integer[]`` or ``bigint[]`` for larger ones, an unknown type when empty), and it prepares
  a statement per text *and* parameter types. Every list of ints passed to ``run_prepared`` is
  sent as ``bigint[]`` (``BigintArray``), empty lists included, and every int as ``bigint``;
- **plans**: PostgreSQL picks a custom plan for the first five executions of a prepared
  statement, then a generic one if it is not costlier on its estimates.
  ``DB_PLAN_CACHE_MODE`` sets ``plan_cache_mode`` on the connections that run prepared
  statements (``auto``, ``force_generic_plan`` or ``force_custom_plan``); other statements
  are never prepared, so the setting reaches only these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import psycopg
from django.conf import settings
from psycopg.types.array import ListBinaryDumper, ListDumper
from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper

#: The oid of PostgreSQL's ``bigint[]`` (``int8[]``).
INT8_ARRAY_OID = 1016
PLAN_CACHE_MODES = ("auto", "force_generic_plan", "force_custom_plan")


class BigintArray(list[int]):
    """A list of ids that psycopg always sends as ``bigint[]`` (even empty)."""


class _BigintArrayTextDumper(ListDumper):
    def __init__(self, cls: type, context: Any = None) -> None:
        super().__init__(cls, context)
        self.sub_dumper = Int8Dumper(int, context)
        self.oid = INT8_ARRAY_OID

    def get_key(self, obj: Any, format: Any) -> type:
        return self.cls

    def upgrade(self, obj: Any, format: Any) -> _BigintArrayTextDumper:
        return self


class _BigintArrayBinaryDumper(ListBinaryDumper):
    def __init__(self, cls: type, context: Any = None) -> None:
        super().__init__(cls, context)
        self.sub_dumper = Int8BinaryDumper(int, context)
        self.oid = INT8_ARRAY_OID

    def get_key(self, obj: Any, format: Any) -> type:
        return self.cls

    def upgrade(self, obj: Any, format: Any) -> _BigintArrayBinaryDumper:
        return self


# Registered on psycopg's global adapters: only ``BigintArray`` values are concerned.
psycopg.adapters.register_dumper(BigintArray, _BigintArrayBinaryDumper)
psycopg.adapters.register_dumper(BigintArray, _BigintArrayTextDumper)


def bigint_array(ids: Iterable[int]) -> BigintArray:
    """``ids`` as a parameter PostgreSQL receives as ``bigint[]``."""
    return BigintArray(int(i) for i in ids)


def _typed(param: Any) -> Any:
    if (
        isinstance(param, list)
        and not isinstance(param, BigintArray)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in param)
    ):
        return BigintArray(param)
    return param


@cache
def _prepared_cursor_class() -> Any:
    """Django's server-binding cursor whose every ``execute`` is a prepared statement."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    base: Any = ServerBindingCursor

    class PreparedCursor(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Every int as bigint: a scalar's type must not depend on its value either.
            self.adapters.register_dumper(int, Int8Dumper)
            self.adapters.register_dumper(int, Int8BinaryDumper)

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True)

    return PreparedCursor


def plan_cache_mode() -> str:
    mode = getattr(settings, "DB_PLAN_CACHE_MODE", "auto")
    return mode if mode in PLAN_CACHE_MODES else "auto"


def _prepare_connection(raw_connection: Any) -> None:
    if raw_connection.prepare_threshold is not None:
        return
    # Django turns psycopg's automatic preparing off (None); a huge threshold keeps it off
    # for every other query (Django's client-side cursors never prepare anyway) while
    # letting ``prepare=True`` through.
    raw_connection.prepare_threshold = 2**31
    # PostGIS declares its functions costly, so the planner's estimate for a thousand
    # candidates passes ``jit_above_cost`` and PostgreSQL spends seconds compiling the
    # statement to machine code at every execution, far longer than the query runs.
    # JIT pays off for analytics, never for a web request: off for this connection.
    raw_connection.execute("SET jit = off")
    raw_connection.execute(f"SET plan_cache_mode = {plan_cache_mode()}")


def run_prepared(
    connection: Any, sql: str, params: Sequence[Any], *, prepare: bool = True
) -> list[tuple[Any, ...]]:
    """Execute ``sql`` and fetch every row; on PostgreSQL as a prepared statement.

    Lists of ints among ``params`` go as ``bigint[]``. Runs through Django's cursor wrappers,
    so query logging and ``django_assert_num_queries`` see it.
    """
    params = [_typed(p) for p in params]
    if connection.vendor != "postgresql" or not prepare:
        params = [list(p) if isinstance(p, BigintArray) else p for p in params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.ensure_connection()
    _prepare_connection(connection.connection)
    raw = _prepared_cursor_class()(connection.connection)
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.queries_logged and connection.queries_log:
        logged = connection.queries_log[-1]
        if logged.get("sql") is None:  # psycopg keeps no text of a prepared execution
            logged["sql"] = f"EXECUTE (prepared) {sql}"
    return rows


def prepared_statements(connection: Any) -> int:
    """How many statements psycopg prepared on ``connection`` (0 off PostgreSQL)."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return 0
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        row = cursor.fetchone()
    return int(row[0]) if row else 0
