"""Full-text search on content (the API's ``q``): language-aware on PostgreSQL, a scan elsewhere.

On PostgreSQL each content table holds one stored document per language, a generated
``tsvector`` column (``search_fr``, ``search_en``) with a GIN index: the French fields
(``title_fr``, ``summary_fr``, ``body_fr``) are parsed with the French snowball stemmer, the
English fields with the English one, both without accents (``unaccent``), so ``"travaux"``
finds *Travaux de voirie*, ``"concerts"`` finds *Concert* and ``"theatre"`` finds *Théâtre*.
A query matches when either language matches; results carry a ``search_rank`` (title weighs
more than summary, summary more than body). The columns are computed by PostgreSQL from
``document_sql`` on every write (the ORM never reads them); storing them lets the rank read
each match's document instead of parsing its text again (at bench scale, ranking the matches
of a common word became an order of magnitude faster: bench/README.md).

The user's text never reaches PostgreSQL as typed: ``websearch_to_tsquery`` fails with
``tsquery stack too small`` on 33 ``-`` in a row, an unauthenticated 500. ``search_expression``
rewrites it first, in one bounded pass, into the same web-search syntax with every operator
attached to a word: words (letters and digits only), ``-word``, ``"a phrase"`` and ``or``
between two terms; at most ``MAX_QUERY_TERMS`` words (more is a 400). A text with no word
left matches nothing.

SpatiaLite (the embedded demo) has no such machinery: every word of the query must appear,
case-insensitively, in a translated title, summary or body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib.postgres.search import SearchVectorField
from django.db import connections, migrations
from django.db.models import BooleanField, F, FloatField, Func, Q, QuerySet, Value
from django.utils.translation import gettext_lazy as _

QS = TypeVar("QS", bound=QuerySet)

#: Content language → the PostgreSQL text search configuration made by ``search_configuration``.
SEARCH_CONFIGS = {"fr": "quartier_fr", "en": "quartier_en"}
#: The snowball stemmer each configuration copies.
_SNOWBALL = {"fr": "french", "en": "english"}
#: Translated fields searched, with their weight in the rank.
SEARCH_FIELDS = (("title", "A"), ("summary", "B"), ("body", "C"))
#: Longest accepted query, in characters.
MAX_QUERY_LENGTH = 200
#: Most words in one query (phrases count each of their words).
MAX_QUERY_TERMS = 32

#: One term of the user's text: leading dashes, then a quoted phrase or a run of non-spaces.
_TERM = re.compile(r'(-*)("[^"]*"?|[^\s"]+)')
_WORD = re.compile(r"\w+")


def _search_terms(text: str) -> list[tuple[bool, list[str]] | None]:
    """The terms of ``text``: ``(negated, words)``, or ``None`` for an ``or`` between two."""
    terms: list[tuple[bool, list[str]] | None] = []
    for match in _TERM.finditer(text[:MAX_QUERY_LENGTH]):
        dashes, body = match.groups()
        if not dashes and body.lower() == "or":
            if terms and terms[-1] is not None:
                terms.append(None)
            continue
        words = _WORD.findall(body)
        if words:
            terms.append((bool(dashes), words))
    while terms and terms[-1] is None:
        terms.pop()
    if sum(len(term[1]) for term in terms if term is not None) > MAX_QUERY_TERMS:
        raise ValueError(f"at most {MAX_QUERY_TERMS} words")
    return terms


def search_expression(text: str) -> str:
    """``text`` as a web-search expression whose every operator has a word to work on.

    ``ValueError`` for more than ``MAX_QUERY_TERMS`` words; ``""`` when no word is left.
    """
    parts = []
    for term in _search_terms(text):
        if term is None:
            parts.append("or")
            continue
        negated, words = term
        # A single word stays bare (stemmed alone); several become a phrase ("saint-antoine").
        word = words[0] if len(words) == 1 and words[0].lower() != "or" else None
        parts.append(("-" if negated else "") + (word or '"' + " ".join(words) + '"'))
    return " ".join(parts)


class SearchTextField(forms.CharField):
    """The ``q`` parameter: refused (400) when ``search_expression`` cannot take it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_QUERY_LENGTH)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value:
            try:
                search_expression(value)
            except ValueError:
                raise forms.ValidationError(
                    _("%(n)d mots au plus."), params={"n": MAX_QUERY_TERMS}, code="too_long"
                ) from None
        return value


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
        # The stored column of this table (same alias as the first translated field).
        first, _params = compiler.compile(self.get_source_expressions()[0])
        qualifier, _dot, _column = first.rpartition(".")
        column = connection.ops.quote_name(document_column(self.language))
        return (f"{qualifier}.{column}" if qualifier else column), []


def document_column(language: str) -> str:
    """The generated ``tsvector`` column holding a row's document in ``language``."""
    return f"search_{language}"


class _Query(Func):
    """``websearch_to_tsquery`` of a ``search_expression`` (raw text can overflow its stack)."""

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
    text = search_expression(text)
    if not text:
        return queryset.none()
    if connections[queryset.db].vendor == "postgresql":
        matches = Q()
        rank: Any = None
        for language in SEARCH_CONFIGS:
            document, query = _Document(language), _Query(language, text)
            matches |= Q(_Matches(document, query))
            term = _Rank(document, query)
            rank = term if rank is None else rank + term
        return queryset.filter(matches).annotate(search_rank=rank)
    return _search_simple(queryset, text)


def _search_simple(queryset: QS, text: str) -> QS:
    words = [word for term in _search_terms(text) if term and not term[0] for word in term[1]]
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


def search_documents(table: str) -> migrations.RunPython:
    """Migration: store each language's document in a generated column, GIN-indexed.

    Replaces the expression indexes of ``search_index`` (same names), which made ranking
    re-parse the text of every match (PostgreSQL only).
    """

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for language in SEARCH_CONFIGS:
            column = document_column(language)
            document = document_sql(language, lambda name: f'"{name}"')
            schema_editor.execute(
                f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{column}" tsvector '
                f"GENERATED ALWAYS AS ({document}) STORED"
            )
            schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_search_{language}"')
            schema_editor.execute(
                f'CREATE INDEX "{table}_search_{language}" ON "{table}" USING gin ("{column}")'
            )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for language in SEARCH_CONFIGS:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_search_{language}"')
            column = document_column(language)
            schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS "{column}"')
        search_index(table).code(apps, schema_editor)

    return migrations.RunPython(forwards, backwards, elidable=False)


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
