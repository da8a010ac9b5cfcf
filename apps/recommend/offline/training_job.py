"""Stage 2 training from the database: the interaction log, the catalog and the profiles.

``recommender_train`` is what ``python manage.py train_recommender`` and the nightly beat task
run. It reads the last ``days`` of the log of devices that accept personalization
(``selectors.interactions_for_training``), the facts of every item in it as the feed reads them
(``online.candidate_query.items_catalog``), the devices' current places and follows, calls
``fitting.fit`` and saves the model with ``ModelStore.save`` **only if it beats
stage 1 on the held-out days and passes the serving gate** (``offline.gate``: at least as good
as nearest-first for everyone and for the residents who declared no, one or several
categories); a refused model's sidecar is kept as ``refused-<version>.json`` with the reason.
Otherwise, or when there is not enough data
(``NotEnoughDataError``), the model being served (or stage 1) stays in place. The feed picks a
saved model up on its next request (``ModelStore.current`` watches ``LATEST``).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone

from apps.core.item_types import ItemType
from apps.recommend.codes import Action, Context
from apps.recommend.engine.context import Place, ResidentProfile
from apps.recommend.offline.fitting import InteractionLog, NotEnoughDataError, TrainedModel, fit
from apps.recommend.online.candidate_query import items_catalog
from apps.recommend.selectors import interactions_for_training
from apps.recommend.store import ModelStore
from apps.residents.selectors import followed_ids_by_device, places_by_device

logger = logging.getLogger(__name__)

#: Days of the log a training reads by default (within the retention period).
DEFAULT_DAYS = 28


@dataclass(frozen=True)
class TrainingResult:
    """What a training run did: ``version`` is set when a new model was saved."""

    version: str | None
    reason: str  # "saved", or why nothing was saved
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    data: dict[str, int] = field(default_factory=dict)
    kind: str = ""
    gate: dict[str, Any] = field(default_factory=dict)
    interactions: int = 0
    seconds: float = 0.0


def _log_columns(since: datetime, until: datetime) -> dict[str, list[Any]]:
    rows = interactions_for_training(since=since, until=until).filter(
        device__personalization_consent=True
    )
    columns: dict[str, list[Any]] = defaultdict(list)
    names = {
        "item_type": {c.value: c.code for c in ItemType},
        "action": {c.value: c.code for c in Action},
        "context": {c.value: c.code for c in Context},
    }
    for row in rows.iterator(chunk_size=20_000):
        columns["device_id"].append(row["device_id"])
        columns["item_type"].append(names["item_type"][row["item_type"]])
        columns["item_id"].append(row["item_id"])
        columns["action"].append(names["action"][row["action"]])
        columns["context"].append(names["context"][row["context"]])
        columns["at_s"].append(row["at"].timestamp())
    return columns


def _profiles(device_ids: list[int]) -> list[ResidentProfile]:
    """Each device's current places and follows (places and follows are not versioned)."""
    places = places_by_device(device_ids=device_ids)
    follows = followed_ids_by_device(device_ids=device_ids)
    profiles = []
    for device_id in device_ids:
        followed = follows.get(device_id)
        profiles.append(
            ResidentProfile(
                places=tuple(
                    Place(p.label, float(p.location.x), float(p.location.y), float(p.radius_m))
                    for p in places.get(device_id, [])
                ),
                followed_categories=followed.categories if followed else frozenset(),
                followed_areas=frozenset(followed.areas) if followed else frozenset(),
                followed_organizations=followed.organizations if followed else frozenset(),
            )
        )
    return profiles


def recommender_train(
    *,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
    store: ModelStore | None = None,
    seed: int = 0,
    try_boosting: bool = True,
) -> TrainingResult:
    """Train stage 2 on the last ``days`` of the log; save it if it beats stage 1."""
    started = time.perf_counter()
    now = now or timezone.now()
    store = store or ModelStore(Path(settings.RECOMMENDER_MODEL_DIR))
    columns = _log_columns(now - timedelta(days=days), now)
    n = len(columns["action"])

    def result(version: str | None, reason: str, trained: TrainedModel | None = None) -> Any:
        outcome = TrainingResult(
            version=version,
            reason=reason,
            metrics=trained.metrics if trained else {},
            data=trained.data if trained else {},
            kind=trained.kind if trained else "",
            gate=trained.gate if trained else {},
            interactions=n,
            seconds=time.perf_counter() - started,
        )
        logger.info("recommender training: %s (%s interactions)", reason, n)
        return outcome

    if n == 0:
        return result(None, "not enough data: no interactions in the period")
    refs: dict[str, set[int]] = defaultdict(set)
    for type_code, item_id in zip(columns["item_type"], columns["item_id"], strict=True):
        refs[type_code].add(item_id)
    catalog = items_catalog(refs, now=now, text_language=settings.LANGUAGE_CODE)
    log, residents = InteractionLog.from_columns(
        resident=np.array(columns["device_id"], dtype=np.int64),
        item_type=columns["item_type"],
        item_id=np.array(columns["item_id"], dtype=np.int64),
        action=columns["action"],
        context=columns["context"],
        at_s=np.array(columns["at_s"], dtype=np.float64),
        catalog=catalog,
    )
    profiles = _profiles([int(r) for r in residents])
    try:
        trained = fit(log, catalog, profiles, seed=seed, try_boosting=try_boosting)
    except NotEnoughDataError as error:
        return result(None, f"not enough data: {error}")
    if not trained.beats_stage1:
        reason = "not saved: worse than stage 1 on the held-out days"
        store.record_refused(trained, reason)
        return result(None, reason, trained)
    if not trained.servable:
        reason = f"not saved: refused by the serving gate: {trained.gate.get('reason')}"
        store.record_refused(trained, reason)
        return result(None, reason, trained)
    version = store.save(trained)
    return result(version, "saved", trained)
