"""Full-text search on content (the API's ``q``): language-aware on PostgreSQL, a scan elsewhere.

On PostgreSQL each content table has one GIN *expression* index per language: the French
fields (``title_fr``, ``summary_fr``, ``body_fr``) are parsed with the French snowball
stemmer, the English fields with the English one, both without accents (``unaccent``), so
``"travaux"`` finds *Travaux de voirie*, ``"concerts"`` finds *Concert* and ``"theatre"`` finds
*Théâtre*. A query matches when either language matches; results carry a ``search_rank``
(title weighs more than summary, summary more than body). The SQL of the index and of the
query come from the same function (``document_sql``), so the planner always matches them.

SpatiaLite (the embedded demo) has no such machinery: every word of the query must appear,
case-insensitively, in a translated title, summary or body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.postgres.search import SearchVectorField
from django.db import connections, migrations
from django.db.models import BooleanField, F, FloatField, Func, Q, QuerySet, Value

QS = TypeVar("QS", bound=QuerySet)

#: Content language → the PostgreSQL text search configuration made by ``search_configuration``.
SEARCH_CONFIGS = {"fr": "quartier_fr", "en": "quartier_en"}
#: The snowball stemmer each configuration copies.
_SNOWBALL = {"fr": "french", "en": "english"}
#: Translated fields searched, with their weight in the rank.
SEARCH_FIELDS = (("title", "A"), ("summary", "B"), ("body", "C"))
#: Longest accepted query, in characters.
MAX_QUERY_LENGTH = 200


def document_sql(language: str, column: Callable[[str], str]) -> str:
    """The weighted ``tsvector`` SQL of one language; ``column(name)`` quotes a column."""
    config = SEARCH_CONFIGS[language]
    parts = [
        f"setweight(to_tsvector('{config}'::regconfig, COALESCE({column(f'{name}_{language}')}, "
        f"''::text)), '{weight}'::\"char\")"
        for name, weight in SEARCH_FIELDS
    ]
    return "(" + " || ".join(parts) + ")"


class _Document(Func):
    """The indexed document of one language, for a query on the model's own table."""

    output_field = SearchVectorField()

    def __init__(self, language: str) -> None:
        self.language = language
        super().__init__(*(F(f"{name}_{language}") for name, _weight in SEARCH_FIELDS))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        columns = {}
        for (name, _weight), expression in zip(
            SEARCH_FIELDS, self.get_source_expressions(), strict=True
        ):
            sql, _params = compiler.compile(expression)
            columns[f"{name}_{self.language}"] = sql
        return document_sql(self.language, columns.__getitem__), []


class _Query(Func):
    """``websearch_to_tsquery``: accepts any user text (quotes, ``-word``, ``or``) without error."""

    output_field = SearchVectorField()

    def __init__(self, language: str, text: str) -> None:
        self.language = language
        super().__init__(Value(text))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"websearch_to_tsquery('{SEARCH_CONFIGS[self.language]}'::regconfig, {sql})", params


class _Matches(Func):
    output_field = BooleanField()
    template = "(%(expressions)s)"
    arg_joiner = " @@ "


class _Rank(Func):
    function = "ts_rank"
    output_field = FloatField()


def search(queryset: QS, text: str) -> QS:
    """Keep the items matching ``text``; on PostgreSQL also annotate ``search_rank``."""
    if connections[queryset.db].vendor == "postgresql":
        matches = Q()
        rank: Any = None
        for language in SEARCH_CONFIGS:
            document, query = _Document(language), _Query(language, text)
            matches |= Q(_Matches(document, query))
            term = _Rank(document, query)
            rank = term if rank is None else rank + term
        return queryset.filter(matches).annotate(search_rank=rank)  # type: ignore[return-value]
    return _search_simple(queryset, text)


def _search_simple(queryset: QS, text: str) -> QS:
    words = [word for word in text.split() if word]
    for word in words:
        any_field = Q()
        for name, _weight in SEARCH_FIELDS:
            for language in SEARCH_CONFIGS:
                any_field |= Q(**{f"{name}_{language}__icontains": word})
        queryset = queryset.filter(any_field)
    return queryset


def search_configuration() -> list[Any]:
    """Migration operations creating the unaccented text search configurations (PostgreSQL)."""
    from django.contrib.postgres.operations import UnaccentExtension

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for language, config in SEARCH_CONFIGS.items():
            schema_editor.execute(
                f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{config}') THEN
                    CREATE TEXT SEARCH CONFIGURATION {config} (COPY = {_SNOWBALL[language]});
                    ALTER TEXT SEARCH CONFIGURATION {config}
                        ALTER MAPPING FOR hword, hword_part, word
                        WITH unaccent, {_SNOWBALL[language]}_stem;
                END IF;
                END $$;"""
            )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for config in SEARCH_CONFIGS.values():
            schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {config}")

    return [UnaccentExtension(), migrations.RunPython(forwards, backwards, elidable=False)]


def search_index(table: str) -> migrations.RunPython:
    """A migration operation creating one GIN index per language on ``table`` (PostgreSQL)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for language in SEARCH_CONFIGS:
            document = document_sql(language, lambda name: f'"{name}"')
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_search_{language}" '
                f'ON "{table}" USING gin ({document})'
            )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for language in SEARCH_CONFIGS:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_search_{language}"')

    return migrations.RunPython(forwards, backwards, elidable=False)
