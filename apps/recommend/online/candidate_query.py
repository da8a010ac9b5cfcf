"""Candidate generation for the feed: one SQL statement in, the engine's arrays out.

``feed_catalog`` runs the statement of ``candidate_statement.py`` (capped, index-driven sources of
candidates plus the facts of the resident's history items) as one query, whatever the page
size, the number of places or follows, and builds a ``Candidates`` with the distances that
PostGIS computed to the real geometries. ``items_catalog`` reads the same facts for any items
(the trainer's catalog). Texts become hashed term counts through ``text_cache.TEXT_CACHE`` (once
per item version and process).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.contrib.gis.geos import Point
from django.db import connections

from apps.core.registry import content_models
from apps.recommend.engine.candidates import Candidates
from apps.recommend.engine.distance import haversine_m
from apps.recommend.online.candidate_statement import COLUMNS, Shape, request_times, statement_for
from apps.recommend.online.sql import parse_area_ids as _area_ids
from apps.recommend.online.sql import run
from apps.recommend.online.text_cache import TEXT_CACHE

#: Traffic impact of works for the ranker (0-1), from ``apps.works.models.Severity``.
SEVERITY = {"minor": 0.3, "moderate": 0.6, "major": 1.0}


@dataclass(frozen=True)
class CandidateRequest:
    """What the sources depend on. ``places`` and ``point`` are WGS84 points."""

    now: datetime
    places: Sequence[Point] = ()
    point: Point | None = None
    followed_categories: Collection[int] = frozenset()
    followed_areas: Collection[int] = frozenset()
    followed_organizations: Collection[int] = frozenset()
    #: Items of the resident's history whose facts are needed too: type code → ids.
    history: Mapping[str, Collection[int]] = field(default_factory=dict)
    #: Whether follows and history apply (a consenting device); else only the anchors do.
    personal: bool = False
    #: Whether the items' texts are needed (a profile or dismissed items to compare them with).
    #: Without, the item index leaves ``Candidates.text`` empty (the SQL statement reads them
    #: anyway): an anonymous feed's ranking never reads them (``engine.features``).
    texts: bool = True

    @property
    def anchors(self) -> list[Point]:
        return [*self.places, *([self.point] if self.point is not None else [])]


@dataclass(frozen=True, eq=False)
class FeedCatalog:
    """The items read: candidates and history items, one row each (``catalog``).

    ``is_candidate`` marks the public items selected by a source; ``catalog.place_distance_m``
    holds one column per place and ``point_distance_m`` the distance to the request point.
    """

    catalog: Candidates
    is_candidate: np.ndarray
    #: The content generation read in this request, when the item index that answered is at
    #: it (``index_query.feed_catalog_indexed``); ``None`` from SQL.
    generation: str | None = None

    def candidates(self) -> Candidates:
        """The candidate rows: the catalog itself when every row is one (an anonymous feed's:
        no history), else a copy of those rows."""
        if self.is_candidate.all():
            return self.catalog
        return self.catalog.take(np.flatnonzero(self.is_candidate))

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Catalog rows of item keys (``candidates.item_keys``); -1 where unknown."""
        catalog_keys = self.catalog.keys
        order = np.argsort(catalog_keys, kind="stable")
        if len(order) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(catalog_keys[order], keys), len(order) - 1)
        return np.where(catalog_keys[order][pos] == keys, order[pos], -1)


def _execute(request: CandidateRequest, *, text_language: str, sources: bool) -> FeedCatalog:
    using = next(iter(content_models().values())).objects.db
    connection = connections[using]
    shape = Shape(
        personal=request.personal, places=len(request.places), point=request.point is not None
    )
    template = statement_for(shape, text_language=text_language, using=using, sources=sources)
    values: dict[str, Any] = {
        "categories": sorted(request.followed_categories),
        "areas": sorted(request.followed_areas),
        "organizations": sorted(request.followed_organizations),
    }
    for code in content_models():
        values[f"history_{code}"] = sorted(request.history.get(code, ()))
    for k, anchor in enumerate(request.anchors):
        values[f"anchor{k}_lon"], values[f"anchor{k}_lat"] = float(anchor.x), float(anchor.y)
    params = template.fill(values, request_times(request.now), connection=connection)
    return _catalog(run(connection, template.sql, params), request)


def feed_catalog(request: CandidateRequest, *, text_language: str = "fr") -> FeedCatalog:
    """Run the candidate statement (one query) and build the engine's arrays."""
    return _execute(request, text_language=text_language, sources=True)


def items_catalog(
    refs: Mapping[str, Collection[int]], *, now: datetime, text_language: str = "fr"
) -> Candidates:
    """The facts of any items (public or not) as the feed reads them: one query.

    Events' dates are their next occurrence after ``now`` (else their first) and the end of
    the series, as for the feed's candidates.
    """
    request = CandidateRequest(now=now, history=refs, personal=True)
    return _execute(request, text_language=text_language, sources=False).catalog


def _catalog(rows: list[tuple], request: CandidateRequest) -> FeedCatalog:
    """The engine's arrays from the statement's rows (``COLUMNS`` then one distance each)."""
    n = len(rows)
    columns = (
        list(zip(*rows, strict=True)) if rows else [()] * (len(COLUMNS) + len(request.anchors))
    )
    col = dict(zip(COLUMNS, columns, strict=False))

    def floats(values: Sequence[Any]) -> np.ndarray:
        return np.array(values, dtype=np.float64)  # None becomes NaN

    item_type = np.array(col["f_type"], dtype=np.int8)
    item_id = np.array(col["f_id"], dtype=np.int64)
    area_lists = [_area_ids(v) for v in col["f_areas"]]
    text = TEXT_CACHE.rows(
        [(int(t), int(i), u) for t, i, u in zip(item_type, item_id, col["f_updated"], strict=True)],
        col["f_text"],
    )
    lon, lat = floats(col["f_lon"]), floats(col["f_lat"])
    distances = np.zeros((n, 0))
    if request.anchors:
        distances = np.array(columns[len(COLUMNS) :], dtype=np.float64).T.reshape(
            n, len(request.anchors)
        )
        # The statement leaves points to numpy (NULL): the haversine distance of the point.
        a_lon = np.array([a.x for a in request.anchors], dtype=np.float64)
        a_lat = np.array([a.y for a in request.anchors], dtype=np.float64)
        points = haversine_m(lon[:, None], lat[:, None], a_lon[None, :], a_lat[None, :])
        distances = np.where(np.isnan(distances), points, distances)
    n_places = len(request.places)
    catalog = Candidates(
        item_type=item_type,
        item_id=item_id,
        category=np.array(col["f_category"], dtype=np.int64),
        organization=np.array(col["f_organization"], dtype=np.int64),
        lon=lon,
        lat=lat,
        published_s=floats(col["f_published"]),
        start_s=floats(col["f_start"]),
        end_s=floats(col["f_end"]),
        expires_s=floats(col["f_expires"]),
        urgency=np.array(col["f_urgency"], dtype=np.int8),
        popularity=floats(col["f_popularity"]),
        severity=np.array([SEVERITY.get(v, 0.0) for v in col["f_severity"]], dtype=np.float64),
        text=text,
        area_item=np.repeat(np.arange(n, dtype=np.int64), [len(a) for a in area_lists]),
        area_id=np.array([a for areas in area_lists for a in areas], dtype=np.int64),
        place_distance_m=distances[:, :n_places] if request.anchors else None,
        point_distance_m=distances[:, n_places] if request.point is not None else None,
    )
    return FeedCatalog(catalog, np.array(col["f_candidate"], dtype=bool))
