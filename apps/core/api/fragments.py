"""Pre-rendered item JSON (fragments): lists, details and the feed splice bytes from Redis.

A *fragment* is the JSON of one public item as its list (``l``) or detail (``d``) serializer
renders it in one language, without the per-request fields (``distance_m``; the feed's
``score`` and ``reasons`` are appended after it). It is stored in the cache under
``frag:<kind>:<type>:<id>:<language>`` with a header line saying what it was made from:

- the **item version**: its ``updated_at`` (every write through the services moves it);
- the **serializer version** (``serializer_version``: a hash of the serializer's field tree,
  ``FRAGMENT_FORMAT``, ``SITE_URL`` and ``MEDIA_URL``): a release that changes a serializer
  never reads an older release's fragments;
- the **generation** of its type (``frag:gen:<type>``): bumped (at once and on commit) when
  something items embed changes without their ``updated_at`` moving — a category,
  organization or area renamed or removed, a venue edited (``fragments_invalidate``);
- a **validity end**: the first moment the JSON changes with time alone (an event's next
  occurrence ends, an item expires, works end). Past it the fragment is a miss.

A reader compares all four with what it knows *now* (the version comes from SQL it runs in the
same request: the list's page query, the detail's version aggregate, or ``items_versions`` for
the feed); a fragment that does not match is a miss, answered by live serialization and
stored again. The generation is read *before* the item data, so a fragment is never stored
under a generation newer than its data. So a response is never wrong, only slower.

Bytes are made by orjson and are byte-identical to what DRF's ``JSONRenderer`` makes of the
same serializer data (``encode_json``: same escapes, same numbers; the rare value orjson would
spell differently goes through DRF's encoder). Redis is read with one ``MGET`` per response
and written with one pipelined ``SET … EX`` per miss batch; with Redis down every lookup is a
miss (``apps.core.cache`` fails open) and responses are rendered live.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import translation
from rest_framework import serializers

from apps.core.api.fragment_store import (
    FRAGMENT_FORMAT,
    as_int,
    encode_json,
    generation_incr,
    serializer_version,
    store_get,
    store_put,
)
from apps.core.api.item_refs import ItemVersion, refs_fetch
from apps.core.geo import point

logger = logging.getLogger(__name__)
#: The background re-render (``apps.core.tasks.fragments_render``), found by name.
RENDER_TASK = "apps.core.tasks.fragments_render"
#: The render of items just published or edited (``apps.core.tasks.fragments_render_items``).
RENDER_ITEMS_TASK = "apps.core.tasks.fragments_render_items"
#: Most ids one ``fragments_render_items`` task is given: a bulk import is cut in such chunks.
RENDER_ITEMS_MAX = 500

KEY = "frag:{kind}:{type}:{id}:{language}"
GENERATION_KEY = "frag:gen:{type}"
LIST, DETAIL = "l", "d"
#: Where the per-request ``distance_m`` goes: the byte offset is found with this sentinel.
_DISTANCE_SENTINEL = -7_123_456_789
_DISTANCE_MARK = b',"distance_m":' + str(_DISTANCE_SENTINEL).encode()


@functools.cache
def _distance_follows() -> str:
    """The list field that ``distance_m`` follows in the live serializer's order."""
    from apps.core.api.serializers import ContentListItemSerializer

    fields = list(ContentListItemSerializer.Meta.fields)
    return fields[fields.index("distance_m") - 1]


_NO_SPLIT = -1
#: Response header: how many of the response's items came pre-rendered, ``hits/items``.
FRAGMENTS_HEADER = "X-Fragments"


def fragments_invalidate(type_codes: Iterable[str]) -> None:
    """Every fragment of ``type_codes`` is stale: now, and again when the transaction commits.

    For changes to what items embed that leave their ``updated_at`` alone (taxonomy names,
    venues, areas). The background re-render (``render_fragments``) refills them.
    """
    keys = [GENERATION_KEY.format(type=t) for t in type_codes]
    for key in keys:
        generation_incr(key)

    def bump_again() -> None:
        for key in keys:
            generation_incr(key)

    transaction.on_commit(bump_again)


def fragments_rerender(type_codes: Sequence[str] | None = None) -> None:
    """After the transaction commits, re-render fragments in the background (Celery task
    ``core.tasks.fragments_render``); with the broker down they are rendered on demand."""
    _enqueue_on_commit(
        RENDER_TASK, [(list(type_codes) if type_codes else None,)], "the fragments re-render"
    )


def fragments_render_later(type_code: str, ids: Iterable[int]) -> None:
    """After the transaction commits, render the list fragments of items just published or
    edited in the background (Celery task ``core.tasks.fragments_render_items``, at most
    ``RENDER_ITEMS_MAX`` ids a task), so that their first readers are served from the store.
    Nothing with fragments off; with the broker down they are rendered on demand."""
    if settings.API_FRAGMENT_SECONDS <= 0:
        return
    unique = sorted(set(ids))
    chunks = [
        (type_code, unique[start : start + RENDER_ITEMS_MAX])
        for start in range(0, len(unique), RENDER_ITEMS_MAX)
    ]
    if chunks:
        _enqueue_on_commit(RENDER_ITEMS_TASK, chunks, "the fragments render of saved items")


#: How long an enqueue of a render waits for the broker, once (no retry): fragments are an
#: optimization that readers make up for, so a hung broker must not hold the writer's request
#: longer than that (the notifications' enqueue, which must not be lost, waits longer).
_BROKER_WAIT_S = 0.3
_QUICK_BROKER = {
    "socket_connect_timeout": _BROKER_WAIT_S,
    "socket_timeout": _BROKER_WAIT_S,
    "max_retries": 0,
}


def _enqueue_on_commit(name: str, calls: Sequence[tuple[Any, ...]], what: str) -> None:
    """After the transaction commits, enqueue the task ``name`` once for each arguments of
    ``calls``, on one broker connection. A broker that fails only logs a warning (never the
    writer's request): the first failure stops the rest, which readers render on demand."""

    def enqueue() -> None:
        # By name from the registry (``CoreConfig.ready`` imports ``apps.core.tasks``), as
        # ``apps.notifications.enqueue`` does: the task calls this module, so importing it
        # here would be an import cycle. The task object runs eagerly where Celery does.
        try:
            task = current_app.tasks[name]
            if current_app.conf.task_always_eager:
                for args in calls:
                    task.delay(*args)
                return
            with current_app.connection_for_write(
                connect_timeout=_BROKER_WAIT_S, transport_options=_QUICK_BROKER
            ) as connection:
                for args in calls:
                    task.apply_async(args, connection=connection, retry=False)
        except Exception:
            logger.warning("could not enqueue %s", what, exc_info=True)

    transaction.on_commit(enqueue)


# --- fragments ------------------------------------------------------------------------------


def _micros(moment: datetime | None) -> int:
    if moment is None:
        return 0
    return int(moment.timestamp() * 1_000_000) if moment.tzinfo else 0


@dataclass(frozen=True)
class RenderedItem:
    """One item's pre-rendered JSON and the facts a feed needs without loading the item."""

    type_code: str
    id: int
    #: The item object without ``distance_m``; ``split`` is where ``distance_m`` goes (-1: none).
    body: bytes
    split: int
    category_id: int | None
    category_name: str
    organization_id: int | None
    organization_name: str
    #: Metres from the request's point (``None`` without a point), as SQL computed it.
    distance_m: float | None = None
    #: ``True`` when served from the store, ``False`` when rendered live for this request.
    hit: bool = False

    def with_distance(self, distance_m: float | None) -> RenderedItem:
        return RenderedItem(**{**self.__dict__, "distance_m": distance_m})

    def json(self, extra: bytes | None = None) -> bytes:
        """The item's JSON, with ``distance_m`` (if any) and ``extra`` members appended.

        ``extra`` is encoded members without braces, e.g. ``b'"score":0.5,"reasons":[]'``.
        """
        body = self.body
        if self.distance_m is not None and self.split >= 0:
            distance = b',"distance_m":' + str(round(self.distance_m)).encode()
            body = body[: self.split] + distance + body[self.split :]
        if extra:
            body = body[:-1] + b"," + extra + b"}"
        return body


def _encode_fragment(
    item: Any,
    data: dict[str, Any],
    *,
    version: str,
    generation: int,
) -> tuple[bytes, RenderedItem]:
    """The stored bytes of ``data`` (an item's representation) and its ``RenderedItem``."""
    data = dict(data)
    data.pop("distance_m", None)
    split = _NO_SPLIT
    before = _distance_follows()
    if before in data:
        # ``distance_m`` goes where ContentListItemSerializer.Meta.fields puts it.
        with_mark: dict[str, Any] = {}
        for key, value in data.items():
            with_mark[key] = value
            if key == before:
                with_mark["distance_m"] = _DISTANCE_SENTINEL
        marked = encode_json(with_mark)
        split = marked.index(_DISTANCE_MARK)
        body = marked[:split] + marked[split + len(_DISTANCE_MARK) :]
    else:
        body = encode_json(data)
    category, organization = item.category, item.organization
    rendered = RenderedItem(
        type_code=item.type_code,
        id=item.pk,
        body=body,
        split=split,
        category_id=item.category_id,
        category_name="" if category is None else str(category.name),
        organization_id=item.organization_id,
        organization_name="" if organization is None else str(organization.name),
    )
    header = orjson.dumps(
        [
            FRAGMENT_FORMAT,
            version,
            _micros(item.updated_at),
            generation,
            _valid_until_s(item),
            split,
            rendered.category_id,
            rendered.category_name,
            rendered.organization_id,
            rendered.organization_name,
        ]
    )
    return header + b"\n" + body, rendered


def _valid_until_s(item: Any) -> float:
    """When ``item``'s JSON changes with time alone (0: never): expiry, end, next occurrence."""
    moments = [getattr(item, name, None) for name in ("expires_at", "next_end_at")]
    if item.type_code == "works":  # finished works leave the public set (Works.over_q)
        moments.append(item.end_at)
    found = [m.timestamp() for m in moments if isinstance(m, datetime)]
    return min(found) if found else 0.0


def _decode_fragment(
    raw: bytes | None,
    *,
    type_code: str,
    pk: int,
    version: str,
    updated_at: datetime | None,
    generation: int,
    now_s: float,
) -> RenderedItem | None:
    """The fragment in ``raw`` if it matches what the caller knows now, else ``None``."""
    parsed = _parse_fragment(
        raw, type_code=type_code, pk=pk, version=version, generation=generation, now_s=now_s
    )
    return _of_version(parsed, updated_at)


#: A fragment parsed and current but for the item's version: (item, version in microseconds).
_Parsed = tuple[RenderedItem, int] | None


def _parse_fragment(
    raw: bytes | None, *, type_code: str, pk: int, version: str, generation: int, now_s: float
) -> _Parsed:
    """The fragment in ``raw`` and its item version, if its serializer version, generation
    and validity are current at ``now_s``; else ``None``."""
    if not raw:
        return None
    newline = raw.find(b"\n")
    if newline < 0:
        return None
    try:
        head = orjson.loads(raw[:newline])
        fmt, sv, item_version, gen, valid_until, split, cat_id, cat, org_id, org = head
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None
    if fmt != FRAGMENT_FORMAT or sv != version or gen != generation:
        return None
    if valid_until and now_s >= valid_until:
        return None
    rendered = RenderedItem(
        type_code=type_code,
        id=pk,
        body=raw[newline + 1 :],
        split=split,
        category_id=cat_id,
        category_name=cat,
        organization_id=org_id,
        organization_name=org,
        hit=True,
    )
    return rendered, item_version


def _of_version(parsed: _Parsed, updated_at: datetime | None) -> RenderedItem | None:
    """The parsed fragment if it is of the item's version ``updated_at`` (``None``: any)."""
    if parsed is None:
        return None
    rendered, item_version = parsed
    if updated_at is not None and item_version != _micros(updated_at):
        return None
    return rendered


def _language(language: str | None) -> str:
    return language or translation.get_language() or settings.LANGUAGE_CODE


class _Lookup:
    """One cache read of list fragments for some refs, in one language."""

    def __init__(
        self,
        refs: Sequence[tuple[str, int]],
        language: str,
        kind: str = LIST,
        before: Callable[[Any], None] | None = None,
    ):
        from apps.core.api.items import _TYPES

        self.refs, self.language, self.kind = refs, language, kind
        type_codes = sorted({t for t, _pk in refs})
        self.keys = [KEY.format(kind=kind, type=t, id=pk, language=language) for t, pk in refs]
        generation_keys = [GENERATION_KEY.format(type=t) for t in type_codes]
        raw = store_get(generation_keys + self.keys, before=before)
        self.generations = {t: as_int(g) for t, g in zip(type_codes, raw, strict=False)}
        self.raw = raw[len(type_codes) :]
        #: Generations new fragments are stored under (``render_rows`` may give older ones).
        self.store_generations = dict(self.generations)
        self.versions = {t: serializer_version(_TYPES[t].serializer) for t in type_codes}
        self.now_s = time.time()
        self.stored: dict[str, bytes] = {}
        self.parsed: dict[int, _Parsed] = {}

    def get(self, position: int, updated_at: datetime | None) -> RenderedItem | None:
        """The fragment at ``position`` if current (``updated_at``: the item's version now).
        Each one is parsed once, however often it is asked for."""
        if position in self.parsed:
            return _of_version(self.parsed[position], updated_at)
        type_code, pk = self.refs[position]
        parsed = self.parsed[position] = _parse_fragment(
            self.raw[position],
            type_code=type_code,
            pk=pk,
            version=self.versions[type_code],
            generation=self.generations[type_code],
            now_s=self.now_s,
        )
        return _of_version(parsed, updated_at)

    def render(self, position: int, item: Any, request: Any = None) -> RenderedItem:
        """Serialize ``item`` live (in the lookup's language) and keep it for ``store``."""
        from apps.core.api.items import _bound_serializer

        with translation.override(self.language):
            data = _bound_serializer(item.type_code, {"request": request}).to_representation(item)
            value, rendered = _encode_fragment(
                item,
                data,
                version=self.versions[item.type_code],
                generation=self.store_generations[item.type_code],
            )
        self.stored[self.keys[position]] = value
        return rendered

    def store(self) -> None:
        store_put(self.stored)
        self.stored = {}


def fragment_generations(type_codes: Iterable[str]) -> dict[str, int]:
    """The current generation of each type: read it *before* reading the rows to render."""
    codes = sorted(set(type_codes))
    raw = store_get([GENERATION_KEY.format(type=t) for t in codes])
    return {t: as_int(g) for t, g in zip(codes, raw, strict=True)}


def render_rows(
    rows: Sequence[ItemVersion],
    load: Any,
    *,
    generations: dict[str, int],
    language: str | None = None,
    request: Any = None,
) -> list[RenderedItem]:
    """The list JSON of a page whose rows SQL just read (ids, versions, distances).

    ``load(positions)`` returns the model instances of the rows at ``positions`` (the
    misses), from the same read as ``rows``; ``generations`` (``fragment_generations``) were
    read before the rows, and the misses are stored under them: a taxonomy change committed
    between the two reads leaves them stale, not wrong. One cache read (and the generations'
    before it); one write for the misses.
    """
    lookup = _Lookup([(r.type_code, r.id) for r in rows], _language(language))
    for type_code, generation in generations.items():
        if type_code in lookup.store_generations:
            lookup.store_generations[type_code] = generation
    out: list[RenderedItem | None] = [lookup.get(p, r.updated_at) for p, r in enumerate(rows)]
    missing = [p for p, rendered in enumerate(out) if rendered is None]
    if missing:
        for p, item in zip(missing, load(missing), strict=True):
            out[p] = lookup.render(p, item, request)
        lookup.store()
    return [
        rendered.with_distance(row.distance_m)
        for rendered, row in zip(out, rows, strict=True)
        if rendered is not None
    ]


def items_render(
    refs: Sequence[tuple[str, int]],
    *,
    language: str | None = None,
    near: tuple[float, float] | None = None,
    request: Any = None,
    versions: Callable[[], Sequence[ItemVersion | None] | None] | None = None,
    before: Callable[[Any], None] | None = None,
) -> list[RenderedItem | None]:
    """The list JSON of mixed ``(type, id)`` refs in their order; ``None`` for non-public ones.

    ``near``: ``(lon, lat)`` of ``distance_m``, made a GEOS point only if SQL is asked.

    The feed's page renderer. The cache is read first; when every fragment is there, one SQL
    statement (``items_versions``: which refs are public now, their versions and distances)
    confirms them, unless ``versions`` gives the same facts without SQL (the feed's item index:
    ``index_lists.page_versions``; ``None`` from it: the statement answers). Otherwise the
    items are loaded as before (``items_fetch``: one query per type) and the misses are
    rendered live and stored. Queries: 1 warm (0 with ``versions``), at most one per type cold.
    ``before``: writes sent in the cache read's round trip (``fragment_store.store_get``).
    """
    from apps.core.api.items import items_fetch

    if not refs:
        return []

    def geos() -> Any:
        return None if near is None else point(*near)

    lookup = _Lookup(refs, _language(language), before=before)
    candidates = [lookup.get(p, None) for p in range(len(refs))]
    out: list[RenderedItem | None] = [None] * len(refs)
    if all(c is not None for c in candidates):
        known = None if versions is None else versions()
        stale: list[int] = []
        for p, version in enumerate(known or items_versions(refs, near=geos())):
            if version is None:
                continue
            rendered = lookup.get(p, version.updated_at)
            if rendered is None:
                stale.append(p)
            else:
                out[p] = rendered.with_distance(version.distance_m)
        if not stale:
            return out
        fetched = items_fetch([refs[p] for p in stale], near=geos())
        positions = {refs[p]: p for p in stale}
    else:
        fetched = items_fetch(refs, near=geos())
        positions = {ref: p for p, ref in enumerate(refs)}
    for item in fetched:
        p = positions[(item.type_code, item.pk)]
        rendered = lookup.get(p, item.updated_at) or lookup.render(p, item, request)
        out[p] = rendered.with_distance(getattr(item, "distance_m", None))
    lookup.store()
    return out


def render_detail(
    item_type: str,
    pk: int,
    updated_at: datetime,
    *,
    serializer_class: type[serializers.Serializer],
    load: Any,
    request: Any = None,
    language: str | None = None,
) -> RenderedItem | None:
    """The detail JSON of one public item: its fragment if current, else ``load()`` rendered.

    ``load()`` returns the model instance (with what the detail serializer reads) or ``None``.
    """
    language = _language(language)
    key = KEY.format(kind=DETAIL, type=item_type, id=pk, language=language)
    generation_key = GENERATION_KEY.format(type=item_type)
    raw_generation, raw = store_get([generation_key, key])
    generation = as_int(raw_generation)
    version = serializer_version(serializer_class)
    rendered = _decode_fragment(
        raw,
        type_code=item_type,
        pk=pk,
        version=version,
        updated_at=updated_at,
        generation=generation,
        now_s=time.time(),
    )
    if rendered is not None:
        return rendered
    item = load()
    if item is None:
        return None
    data = serializer_class(item, context={"request": request}).data
    value, rendered = _encode_fragment(item, data, version=version, generation=generation)
    store_put({key: value})
    return rendered


def items_versions(
    refs: Sequence[tuple[str, int]], *, near: Any = None
) -> list[ItemVersion | None]:
    """For ``(type, id)`` refs: the public ones' ``updated_at`` (and distance to ``near``).

    One statement per call (every type in one ``UNION ALL``, ids as ``bigint[]``), prepared
    once per connection on PostgreSQL; ``None`` for refs that are not public now.
    """
    rows = refs_fetch(refs, near=near)
    return [rows.get(ref) for ref in refs]


def fragments_header(rendered: Iterable[RenderedItem | None]) -> str:
    """``X-Fragments`` of a response: items served from the store / items in it."""
    items = [r for r in rendered if r is not None]
    return f"{sum(r.hit for r in items)}/{len(items)}"


# --- background re-render -----------------------------------------------------------------


def fragments_render_all(
    *,
    type_codes: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    batch: int = 500,
    progress: Any = None,
) -> int:
    """Render and store the list fragment of every public item (after a taxonomy rename).

    Walks each type's public items by id in batches of ``batch`` (bounded memory), renders the
    ones whose fragment is missing or stale, and calls ``progress(type_code, language, done,
    total)`` after each batch. Returns how many fragments were written.
    """
    from apps.core.api.items import _TYPES

    languages = _languages(languages)
    written = 0
    for type_code in type_codes or sorted(_TYPES):
        model_rows = _TYPES[type_code].queryset().order_by("pk").values_list("pk", "updated_at")
        total = model_rows.count()
        for language in languages:
            done, last = 0, 0
            while True:
                rows = list(model_rows.filter(pk__gt=last)[:batch])
                if not rows:
                    break
                written += _render_stale(type_code, rows, [language])
                done += len(rows)
                last = rows[-1][0]
                if progress is not None:
                    progress(type_code, language, done, total)
    return written


def fragments_render_items(
    type_code: str,
    ids: Iterable[int],
    *,
    languages: Sequence[str] | None = None,
    batch: int = 500,
) -> int:
    """Render and store the list fragments of the items ``ids`` of ``type_code`` in every
    language (just published or edited): only those whose fragment is missing or stale, and
    only items still public (the others are skipped). ``ids`` are read ``batch`` at a time.
    Returns how many fragments were written."""
    from apps.core.api.items import _TYPES

    listed = _TYPES.get(type_code)
    if listed is None:  # a type without public lists has no fragments
        return 0
    languages = _languages(languages)
    unique = sorted(set(ids))
    public = listed.queryset().order_by("pk").values_list("pk", "updated_at")
    written = 0
    for start in range(0, len(unique), batch):
        rows = list(public.filter(pk__in=unique[start : start + batch]))
        if rows:
            written += _render_stale(type_code, rows, languages)
    return written


def _languages(languages: Sequence[str] | None) -> list[str]:
    return list(languages or [code for code, _name in settings.LANGUAGES])


def _render_stale(
    type_code: str, rows: Sequence[tuple[int, datetime]], languages: Sequence[str]
) -> int:
    """Render and store, in each of ``languages``, the list fragments of ``rows`` (public
    items' ids and versions, just read) that are missing or stale.

    One cache read per language (the generations first), one ``items_fetch`` of the stale
    items for all languages, one write per language. Items no longer public by then are
    skipped. Returns how many fragments were written.
    """
    from apps.core.api.items import items_fetch

    refs = [(type_code, pk) for pk, _at in rows]
    lookups = [_Lookup(refs, language) for language in languages]
    stale = [
        [p for p, (_pk, at) in enumerate(rows) if lookup.get(p, at) is None] for lookup in lookups
    ]
    wanted = sorted({p for positions in stale for p in positions})
    if not wanted:
        return 0
    items = {item.pk: item for item in items_fetch([refs[p] for p in wanted])}
    written = 0
    for lookup, positions in zip(lookups, stale, strict=True):
        for p in positions:
            item = items.get(rows[p][0])
            if item is not None:  # still public
                lookup.render(p, item)
        written += len(lookup.stored)
        lookup.store()
    return written
