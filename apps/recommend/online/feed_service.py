"""The feed use-case: who asks, candidates from SQL, the engine's ranking, snapshot, pages.

``feed_build`` ranks once per first page (``docs/recommender.md`` §7 is the recipe it follows)
and stores a ``Snapshot``; ``feed_page`` slices a snapshot, loads the public items of the slice
and explains them in the request's language. Queries: a personal first page reads places,
follows and history (``resident_inputs``: 1) and candidates (1), an anonymous one the
candidates (1); every page then
renders its items from their pre-rendered JSON (``items_render``: one statement when every
fragment is current, else one per content type present) and a personal next page the
device's dismissals (one). Nothing is written: the app
reports what was shown through ``POST /api/v1/interactions/``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from apps.core.api.fragments import RenderedItem, items_render
from apps.core.cache import cache_values
from apps.core.geo import point as make_point
from apps.recommend.engine.candidates import Candidates, item_keys
from apps.recommend.engine.context import (
    ACTION_CODES,
    History,
    Place,
    ResidentContext,
    ResidentProfile,
    build_context,
)
from apps.recommend.engine.explain import Labels, Reason, explain
from apps.recommend.engine.interleaving import team_draft
from apps.recommend.engine.ranking import KEPT, Ranker, Ranking, Stage1Ranker, rank
from apps.recommend.engine.text_vectors import take_rows
from apps.recommend.online.candidate_query import CandidateRequest, FeedCatalog
from apps.recommend.online.index_lists import page_versions
from apps.recommend.online.index_query import feed_catalog_indexed
from apps.recommend.online.interleaving import (
    RankerMark,
    interleave_now,
    ranker_name,
    reference_ranker,
    token_make,
)
from apps.recommend.online.item_index import GENERATION_KEY
from apps.recommend.online.resident_cache import inputs_key, resident_inputs_cached
from apps.recommend.online.snapshot import (
    SNAPSHOT_ITEMS,
    PendingWrites,
    PlaceFact,
    Snapshot,
    shared_get,
    shared_key,
    snapshot_rows,
    snapshot_save,
)
from apps.recommend.selectors import PlaceRow, device_dismissed_items
from apps.recommend.store import ModelStore
from apps.residents.models import Device

#: How explanations name a saved place without a name of its own (msgids of the catalogues).
PLACE_LABELS: Mapping[str, Promise] = {
    "home": gettext_lazy("Domicile"),
    "work": gettext_lazy("Travail"),
    "school": gettext_lazy("École"),
    "other": gettext_lazy("Lieu"),
}


@functools.cache
def _store(directory: str) -> ModelStore:
    return ModelStore(Path(directory))


def serving_ranker() -> Ranker:
    """The ranker to serve now: the latest trusted model, or stage 1 (checked per request)."""
    return _store(str(settings.RECOMMENDER_MODEL_DIR)).current()


def _interleaved(
    ranking: Ranking, candidates: Candidates, context: ResidentContext, *, now_s: float
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The rows to keep, who placed them and the reference: the served ranking's best rows,
    or, on an interleaved request, its team draft with the reference's ranking."""
    kept = ranking.order[:SNAPSHOT_ITEMS]
    if not interleave_now():
        return kept, None, ""
    served = ranking.ranker
    reference = reference_ranker(served, _store(str(settings.RECOMMENDER_MODEL_DIR)))
    if reference is None:
        return kept, None, ""
    # Same IDF: the same features (no second computation) and the same removed rows.
    same = reference.idf is served.idf
    other = rank(
        candidates,
        context,
        now_s=now_s,
        ranker=reference,
        features=ranking.features if same else None,
    )
    # Never show what the served ranking removed (a dismissed item's near-duplicate by the
    # reference's IDF may differ).
    other_order = other.order[ranking.removed[other.order] == KEPT]
    order, teams = team_draft(
        ranking.order, other_order, length=SNAPSHOT_ITEMS, rng=np.random.default_rng()
    )
    return order, teams, ranker_name(reference)


def _history(rows: list[tuple[str, int, str, datetime]], fc: FeedCatalog) -> History:
    """The engine's ``History`` of ``rows``, joined with the catalog (unknown items dropped)."""
    if not rows:
        return History.empty()
    from apps.recommend.engine.candidates import TYPE_CODES

    keys = item_keys([TYPE_CODES[t] for t, *_ in rows], [i for _, i, *_ in rows])
    at = fc.rows_of(keys)
    known = at >= 0
    items = at[known]
    c = fc.catalog
    return History(
        item_key=keys[known],
        item_type=c.item_type[items].astype(np.int64),
        category=c.category[items],
        lon=c.lon[items],
        lat=c.lat[items],
        action=np.array([ACTION_CODES[a] for _, _, a, _ in rows], dtype=np.int64)[known],
        at_s=np.array([when.timestamp() for *_, when in rows], dtype=np.float64)[known],
        text=take_rows(c.text, items),
    )


def feed_build(
    *,
    device: Device | None,
    point: Point | None,
    now: datetime | None = None,
    known: Mapping[str, Any] | None = None,
) -> Snapshot:
    """Rank the feed of ``device`` (personal if it consented) around ``point`` (optional).

    ``known``: the values of ``feed_first_keys`` if the caller read them (else read here).
    """
    now = now or timezone.now()
    now_s = now.timestamp()
    xy = None if point is None else (float(point.x), float(point.y))
    personalized = device is not None and device.personalization_consent
    known = cache_values(feed_first_keys(device, xy), known)
    places: list[PlaceRow] = []
    area_names: dict[int, str] = {}
    history_rows: list[tuple[str, int, str, datetime]] = []
    # Not personal: no profile and no dismissed items, so no texts to compare (``texts``).
    request = CandidateRequest(now=now, point=point, texts=False)
    if personalized:
        assert device is not None
        # One query, unless cached.
        inputs = resident_inputs_cached(device_id=device.pk, found=known[inputs_key(device.pk)])
        places, follows, history_rows = inputs.places, inputs.follows, inputs.history
        area_names = follows.areas
        wanted: dict[str, set[int]] = {}
        for type_code, item_id, _, _ in history_rows:
            wanted.setdefault(type_code, set()).add(item_id)
        request = CandidateRequest(
            now=now,
            places=[make_point(p.lon, p.lat) for p in places],
            point=point,
            followed_categories=follows.categories,
            followed_areas=frozenset(follows.areas),
            followed_organizations=follows.organizations,
            history=wanted,
            personal=True,
        )
    fc = feed_catalog_indexed(
        request, text_language=settings.LANGUAGE_CODE, generation=known[GENERATION_KEY]
    )
    facts = tuple(
        PlaceFact(p.label, p.name, float(p.lon), float(p.lat), float(p.radius_m)) for p in places
    )
    if personalized:
        profile = ResidentProfile(
            places=tuple(Place(f.label, f.lon, f.lat, f.radius_m) for f in facts),
            followed_categories=request.followed_categories,  # type: ignore[arg-type]
            followed_areas=request.followed_areas,  # type: ignore[arg-type]
            followed_organizations=request.followed_organizations,  # type: ignore[arg-type]
        )
        context = build_context(profile, _history(history_rows, fc), now_s=now_s, point=xy)
    else:
        context = ResidentContext.anonymous(xy)
    ranker = serving_ranker()
    candidates = fc.candidates()
    ranking = rank(candidates, context, now_s=now_s, ranker=ranker)
    teams, reference = None, ""
    if personalized:
        kept, teams, reference = _interleaved(ranking, candidates, context, now_s=now_s)
    else:
        kept = ranking.order[:SNAPSHOT_ITEMS]
    kept_candidates, kept_features = snapshot_rows(candidates, ranking.features, kept)
    return Snapshot(
        device_id=device.pk if personalized and device is not None else None,
        personalized=personalized,
        point=xy,
        ranker=ranker_name(ranker),
        now_s=now_s,
        candidates=kept_candidates,
        scores=ranking.scores[kept],
        pinned=ranking.pinned[kept],
        features=kept_features,
        places=facts,
        area_names=area_names,
        teams=teams,
        reference=reference,
        generation=fc.generation or "",
    )


def feed_first_keys(device: Device | None, point: tuple[float, float] | None) -> list[str]:
    """The cache keys a first page reads before it ranks, in one round trip: the content
    generation (``item_index``), and the grid cell's shared snapshot (non-personal) or the
    resident's inputs (personal). The feed view's throttle reads them in its own round trip
    (``apps.core.api.throttles``), so a ranked first page costs two: that one, and its
    snapshot written with its items' fragments read (``snapshot.PendingWrites``)."""
    if device is not None and device.personalization_consent:
        return [GENERATION_KEY, inputs_key(device.pk)]
    return [GENERATION_KEY, shared_key(point)]


def feed_snapshot(
    *, device: Device | None, point: Point | None, known: Mapping[str, Any] | None = None
) -> tuple[Snapshot, PendingWrites]:
    """A snapshot for the first page: the shared one of the point's grid cell for a
    non-personal caller (``snapshot.shared_get``), else built and saved, and the writes that
    save it if they are still to send (``PendingWrites``: ``feed_page(before=…)``, then
    ``flush``). ``known``: the values of ``feed_first_keys`` if the caller read them."""
    personalized = device is not None and device.personalization_consent
    xy = None if point is None else (float(point.x), float(point.y))
    keys = feed_first_keys(device, xy)
    known = cache_values(keys, known)
    if not personalized:
        shared = shared_get(xy, key=known[keys[1]])
        if shared is not None:
            return shared, PendingWrites()
    snapshot = feed_build(device=device, point=point, known=known)
    return snapshot_save(snapshot, share=not personalized)


def _place_label(place: PlaceFact, language: str) -> str:
    return place.name or _label_in(place.label, language)


@functools.lru_cache(maxsize=64)
def _label_in(label: str, language: str) -> str:
    with translation.override(language):
        return str(PLACE_LABELS.get(label, PLACE_LABELS["other"]))


@dataclass(frozen=True)
class FeedEntry:
    item: RenderedItem
    score: float
    reasons: list[Reason]
    #: On an interleaved page, the item's ``ranker`` token (``online.interleaving``).
    ranker: str | None = None


@dataclass(frozen=True)
class FeedPage:
    entries: list[FeedEntry]
    next_offset: int | None
    previous_offset: int | None


def feed_page(
    snapshot: Snapshot,
    *,
    offset: int,
    size: int,
    language: str,
    fresh: bool = False,
    ranked_now: bool = False,
    before: Callable[[Any], None] | None = None,
) -> FeedPage:
    """Items ``offset`` to ``offset + size`` of ``snapshot``, with their score and reasons.

    Items that stopped being public since the snapshot was taken are left out, and so are the
    items a personal feed's device dismissed since (one query, unless the snapshot is
    ``fresh``: it was just ranked without them). ``ranked_now``: this request ranked it, so
    the content generation it read then is the page's too (no second read). ``before``:
    cache writes sent with the fragments' read (``items_render``).
    """
    end = min(offset + size, len(snapshot))
    rows = np.arange(min(offset, end), end)
    refs = snapshot.refs_of(rows)
    if snapshot.personalized and not fresh and snapshot.device_id is not None and len(rows):
        dismissed = device_dismissed_items(device_id=snapshot.device_id)
        rows = np.array([r for r in rows.tolist() if refs[r] not in dismissed], dtype=np.int64)
    page_refs = [refs[r] for r in rows.tolist()]
    # Pre-rendered items (apps.core.api.fragments): when they are all current, which are still
    # public, their versions and distances come from the item index, or one statement.
    rendered = items_render(
        page_refs,
        language=language,
        near=snapshot.point,
        versions=lambda: page_versions(
            page_refs,
            snapshot.point,
            timezone.now().timestamp(),
            generation=snapshot.generation if ranked_now and snapshot.generation else None,
        ),
        before=before,
    )
    found = {(item.type_code, item.id): item for item in rendered if item is not None}
    shown = np.array([r for r in rows.tolist() if refs[r] in found], dtype=np.int64)
    current = serving_ranker()
    ranker = current if ranker_name(current) == snapshot.ranker else Stage1Ranker()
    ranking = Ranking(
        order=np.arange(len(snapshot)),
        scores=snapshot.scores,
        pinned=snapshot.pinned,
        removed=np.full(len(snapshot), KEPT, dtype=np.int8),
        features=snapshot.features,
        ranker=ranker,
        now_s=snapshot.now_s,
    )
    context = ResidentContext(
        places=tuple(
            Place(_place_label(p, language), p.lon, p.lat, p.radius_m) for p in snapshot.places
        ),
        point=snapshot.point,
        personalized=snapshot.personalized,
    )
    labels = Labels(
        categories={
            item.category_id: item.category_name
            for item in found.values()
            if item.category_id is not None
        },
        areas=snapshot.area_names,
        organizations={
            item.organization_id: item.organization_name
            for item in found.values()
            if item.organization_id is not None
        },
    )
    reasons = explain(
        ranking,
        snapshot.candidates,
        context,
        shown,
        labels=labels,
        language=language,
        translate=reason_translator(language),
    )
    entries = [
        FeedEntry(found[refs[r]], float(snapshot.scores[r]), row_reasons, _token(snapshot, r))
        for r, row_reasons in zip(shown, reasons, strict=True)
    ]
    return FeedPage(
        entries=entries,
        next_offset=end if end < len(snapshot) else None,
        previous_offset=max(offset - size, 0) if offset > 0 else None,
    )


def _token(snapshot: Snapshot, row: int) -> str | None:
    if snapshot.teams is None:
        return None
    mark = RankerMark(snapshot.key, int(snapshot.teams[row]), snapshot.ranker, snapshot.reference)
    return token_make(mark)


@functools.lru_cache(maxsize=1024)
def _pgettext_in(language: str, context: str, text: str) -> str:
    # The catalogues do not change while the process runs: each text is translated once per
    # language, not twenty-odd times per page (an activate/deactivate pair each).
    with translation.override(language):
        return translation.pgettext(context, text)


def reason_translator(language: str) -> Callable[[str, str], str]:
    """The catalogues' ``pgettext`` in ``language``, for the engine's reasons (``explain``)."""
    return functools.partial(_pgettext_in, language)
