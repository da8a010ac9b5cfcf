"""Refresh the feed's item index incrementally: read what changed, patch the previous index.

``index_refresh`` is what a process runs when the content generation moved
(``item_index.current_index``). Unless a full read is due (below), it reads:

- per type, the ids of the live set (one ``values_list("pk")`` query each): items that left
  it (archived, deleted, expired, over) are dropped;
- the full rows (as ``index_build`` reads them: columns, geometry, text, areas) of the live
  items updated since the previous read less a slack (``FEED_INDEX_REFRESH_SLACK_S``, 300 s),
  and of live items the previous index does not hold;
- the popularity table and every event date not yet ended, whole, as a full build does.

Every other row is taken from the previous index (``rows_merged``: ``np.take`` and CSR
gathers), then lists, ranks and trees are derived from the merged arrays
(``item_index.index_assemble``), so the result equals a full build at the same moment.

Why a slack and not the largest ``updated_at`` read: ``updated_at`` is set when a row is saved,
and the row becomes visible when its transaction commits, later; a row committed after the
previous read has ``updated_at`` no earlier than that read less its transaction's duration
(and the hosts' clock skew). ``generation_bump`` forces a full read for a transaction that
commits more than half the slack after its writes.

A full read instead (``index_build``, texts still reused): no previous index, another text
language, the ``FULL_KEY`` token replaced (changes that do not move ``updated_at``: an area's
outline, a save of chosen fields, a migration, ``apps.recommend.receivers``; or the cache
emptied), ``now`` before the previous read (the clock went back), the previous full
read older than ``FEED_INDEX_FULL_EVERY_S`` (900 s, the safety net), or
``FEED_INDEX_INCREMENTAL`` off.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.recommend.engine.candidates import TYPE_CODES, item_keys
from apps.recommend.online.index_rows import RowFacts, fetch_array, rows_merged, rows_read
from apps.recommend.online.item_index import (
    ItemIndex,
    _rows,
    epoch_us,
    full_token_current,
    index_assemble,
    index_build,
    live_querysets,
    refresh_slack_s,
    refresher_register,
)

logger = logging.getLogger(__name__)


def full_read_reason(previous: ItemIndex | None, now: datetime) -> str | None:
    """Why the next refresh must read every item (module doc), ``None`` when it need not."""
    if previous is None:
        return "no index"
    if not getattr(settings, "FEED_INDEX_INCREMENTAL", True):
        return "incremental refresh off"
    if previous.text_language != settings.LANGUAGE_CODE:
        return "text language"
    if not previous.read_at_us or epoch_us(now) < previous.read_at_us:
        return "no read time, or the clock went back"
    if full_token_current() != previous.full_token:
        return "full token"
    every = float(getattr(settings, "FEED_INDEX_FULL_EVERY_S", 900))
    if now.timestamp() - previous.full_at_s >= every:
        return "periodic"
    return None


def index_refresh(
    *, generation: str, previous: ItemIndex | None, now: datetime | None = None
) -> ItemIndex:
    """The index at ``generation``: ``previous`` patched with what changed, or a full read."""
    now = now or timezone.now()
    started = time.perf_counter()
    reason = full_read_reason(previous, now)
    if reason is not None or previous is None:
        index = index_build(generation=generation, now=now, previous=previous)
        logger.info(
            "feed item index: full read (%s), %d items, %.2f s",
            reason, len(index), time.perf_counter() - started,
        )  # fmt: skip
        return index
    index, changed = index_update(previous, generation=generation, now=now)
    logger.debug(
        "feed item index: refreshed, %d items, %d rows read, %.2f s",
        len(index), changed, time.perf_counter() - started,
    )  # fmt: skip
    return index


def index_update(previous: ItemIndex, *, generation: str, now: datetime) -> tuple[ItemIndex, int]:
    """``previous`` with the live set at ``now`` and the rows changed since its read (module
    doc); returns the index and how many rows were read."""
    language = settings.LANGUAGE_CODE
    since_us = previous.read_at_us - int(refresh_slack_s() * 1_000_000)
    since = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=since_us)
    live_parts: list[np.ndarray] = []
    changed_querysets = []
    for queryset in live_querysets(now):
        t = TYPE_CODES[queryset.model.type_code]
        ids = fetch_array(queryset.order_by("pk").values_list("pk"), 1, np.int64)[:, 0]
        keys = item_keys(np.full(len(ids), t), ids)
        live_parts.append(keys)
        new_ids = ids[previous.rows_of(keys) < 0]
        wanted = Q(updated_at__gte=since)
        if len(new_ids):  # live items the previous index lacks, whenever they were saved
            wanted |= Q(pk__in=new_ids.tolist())
        changed_querysets.append(queryset.filter(wanted))
    live = np.concatenate(live_parts)
    changed = rows_read(changed_querysets, language=language, previous=previous)
    from_changed = _rows(changed.keys, live)
    from_previous = previous.rows_of(live)
    gather = np.where(from_changed >= 0, len(previous) + from_changed, from_previous)
    # Live ids whose row is neither read nor held were deleted between the two queries (their
    # commit bumps the generation again): left out, like rows read that are not in the set.
    gather = gather[gather >= 0]
    facts = rows_merged(RowFacts.from_index(previous), changed, gather)
    index = index_assemble(
        facts,
        generation=generation,
        now=now,
        language=language,
        read_at_us=epoch_us(now),
        full_at_s=previous.full_at_s,
        full_token=previous.full_token,
        refreshes=previous.refreshes + 1,
    )
    return index, len(changed)


refresher_register(index_refresh)  # item_index renews stale indexes through it
