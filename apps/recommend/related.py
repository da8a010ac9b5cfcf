"""Related items of one item: nearby, same organiser, similar text. Cheap, explained, public.

Three sources, each a handful of public items of every type (``public()``: published, not
expired, not over, so never an expired item):

- **nearby** (``nearby``): within ``RELATED_NEARBY_M`` of the item's geometry, nearest first,
  on the geography GiST index of each type (PostGIS); none for a city-wide item;
- **same organiser** (``same_organization``): the item's organisation's latest publications;
- **similar text** (``similar_text``): the item's significant title words (and the longest of its
  summary's) as an ``or`` full-text query on the stored ``search_fr``/``search_en`` documents,
  best rank first (PostgreSQL; SpatiaLite, the embedded demo, has no text ranking: none there).

On PostgreSQL the nine small queries (three sources by three types) run as one ``UNION ALL``
statement, each branch with its own ``ORDER BY … LIMIT``; SpatiaLite cannot order and limit
inside a compound statement, so there they run one by one. The merge takes the sources in turn
(nearest, then the organiser's latest, then the closest text), skips the item itself and
duplicates, and gives each chosen item every reason it has (at most two, as in the feed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import CharField, F, FloatField, QuerySet, Value, Window
from django.db.models.functions import Cast, RowNumber
from django.utils import timezone
from django.utils.translation import pgettext

from apps.core.geo import annotate_distance_m
from apps.core.registry import content_models
from apps.core.search import search
from apps.recommend.engine.explain import REASON_CONTEXT, TEXTS, format_distance
from apps.recommend.engine.text_vectors import STOP_WORDS

#: Reason codes, in the order an item's reasons are listed.
NEARBY, SAME_ORGANIZATION, SIMILAR_TEXT = "nearby", "same_organization", "similar_text"
REASON_CODES = (NEARBY, SAME_ORGANIZATION, SIMILAR_TEXT)
#: Most words of the similar-text query.
MAX_TEXT_WORDS = 8
#: Shortest word kept for the similar-text query (shorter ones are mostly function words).
MIN_WORD_LENGTH = 4
#: Most reasons shown per item (the feed's rule).
MAX_REASONS = 2

_WORD = re.compile(r"\w+")


@dataclass
class RelatedItem:
    """One related item: its ref, why it is related, and its distance for ``nearby``."""

    type_code: str
    id: int
    reasons: list[str] = field(default_factory=list)
    distance_m: float | None = None


def _folded(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def text_query(item: Any) -> str:
    """The similar-text query of ``item``: its significant words joined with ``or``.

    Title words first (both languages), then the summary's longest words; stop words, numbers
    and words under ``MIN_WORD_LENGTH`` letters left out; at most ``MAX_TEXT_WORDS``.
    """
    stop = frozenset(STOP_WORDS)
    seen: set[str] = set()
    words: list[str] = []

    def take(texts: Iterable[str | None], *, longest_first: bool) -> None:
        found = [w for text in texts if text for w in _WORD.findall(text)]
        if longest_first:
            found.sort(key=len, reverse=True)
        for word in found:
            folded = _folded(word)
            if (
                len(words) < MAX_TEXT_WORDS
                and len(folded) >= MIN_WORD_LENGTH
                and not folded.isdigit()
                and folded not in stop
                and folded not in seen
            ):
                seen.add(folded)
                words.append(folded)

    take((getattr(item, f"title_{lang}", "") for lang in ("fr", "en")), longest_first=False)
    take((getattr(item, f"summary_{lang}", "") for lang in ("fr", "en")), longest_first=True)
    return " or ".join(words)


def reason_text(code: str, related: RelatedItem, organization_name: str, language: str) -> str:
    """What ``code`` says of ``related``, in the active language (French msgids translated)."""
    text = pgettext(REASON_CONTEXT, TEXTS[code])
    if code == NEARBY:
        return text.format(distance=format_distance(related.distance_m or 0.0, language))
    if code == SAME_ORGANIZATION:
        return text.format(name=organization_name)
    return text


def _branch(queryset: QuerySet, type_code: str, source: str, score: str) -> QuerySet:
    """``(type, id, source, score)`` rows of ``queryset``: one branch of the union.

    All four are annotations made in this order: Django selects model fields before
    annotations, so mixing them would order the columns differently per branch.
    """
    return queryset.annotate(
        related_type=Value(type_code, output_field=CharField()),
        related_id=F("id"),
        related_source=Value(source, output_field=CharField()),
        related_score=Cast(F(score), FloatField()),
    ).values_list("related_type", "related_id", "related_source", "related_score")


def _branches(item: Any, at: datetime, per_source: int) -> list[QuerySet]:
    vendor = connections["default"].vendor
    query = text_query(item) if vendor == "postgresql" else ""
    branches = []
    for type_code, model in content_models().items():
        public = model.objects.public(at).order_by()
        if type_code == item.type_code:
            public = public.exclude(pk=item.pk)
        if item.geometry is not None and not item.geometry.empty:
            nearby = annotate_distance_m(
                public.near(item.geometry, settings.RELATED_NEARBY_M), item.geometry
            ).order_by("distance_m", "-id")[:per_source]
            branches.append(_branch(nearby, type_code, NEARBY, "distance_m"))
        if item.organization_id is not None:
            latest = [F("publish_at").desc(nulls_last=True), F("id").desc()]
            same = (
                public.filter(organization_id=item.organization_id)
                .annotate(organiser_rank=Window(RowNumber(), order_by=latest))
                .order_by(*latest)[:per_source]
            )
            branches.append(_branch(same, type_code, SAME_ORGANIZATION, "organiser_rank"))
        if query:
            similar = search(public, query).order_by("-search_rank", "-id")[:per_source]
            branches.append(_branch(similar, type_code, SIMILAR_TEXT, "search_rank"))
    return branches


def _rows(branches: Sequence[QuerySet]) -> list[tuple[str, int, str, float]]:
    if not branches:
        return []
    if connections["default"].features.supports_slicing_ordering_in_compound:
        first, *rest = branches
        return list(first.union(*rest, all=True)) if rest else list(first)
    return [row for branch in branches for row in branch]


def related_items(
    item: Any, *, limit: int | None = None, at: datetime | None = None
) -> list[RelatedItem]:
    """Up to ``limit`` public items related to ``item``, best first, each with its reasons.

    One SQL statement on PostgreSQL (one per source and type on SpatiaLite).
    """
    limit = settings.RELATED_ITEMS if limit is None else limit
    if limit <= 0:
        return []
    queues: dict[str, list[tuple[float, str, int]]] = {source: [] for source in REASON_CODES}
    scores: dict[tuple[str, int], dict[str, float]] = {}
    for type_code, pk, source, score in _rows(_branches(item, at or timezone.now(), limit)):
        # Smaller is better in every queue: metres, the organiser's rank, minus the text rank.
        key = -float(score) if source == SIMILAR_TEXT else float(score)
        queues[source].append((key, type_code, pk))
        scores.setdefault((type_code, pk), {})[source] = float(score)
    for queue in queues.values():
        queue.sort(key=lambda entry: (entry[0], -entry[2], entry[1]))
    chosen: list[RelatedItem] = []
    taken: set[tuple[str, int]] = set()
    while len(chosen) < limit and any(queues.values()):
        for source in REASON_CODES:
            queue = queues[source]
            while queue:
                _key, type_code, pk = queue.pop(0)
                if (type_code, pk) not in taken:
                    taken.add((type_code, pk))
                    found = scores[(type_code, pk)]
                    chosen.append(
                        RelatedItem(
                            type_code,
                            pk,
                            reasons=[s for s in REASON_CODES if s in found][:MAX_REASONS],
                            distance_m=found.get(NEARBY),
                        )
                    )
                    break
            if len(chosen) >= limit:
                break
    return chosen
