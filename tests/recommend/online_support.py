"""Simulated residents for the online evaluation: rankers of known quality, clicks from a
hidden utility, everything through the feed and interactions endpoints."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.utils import timezone

from apps.recommend.engine.features import FEATURE_NAMES
from apps.recommend.engine.text_vectors import Idf
from apps.recommend.offline.fitting import TrainedModel, logistic_regression_pipeline
from apps.recommend.store import ModelStore
from tests.recommend.feed_support import URL, add_place, consenting, news

INTERACTIONS = "/api/v1/interactions/"
#: The hidden utility: a resident opens an item they examine with this probability at 0 m ...
OPEN_AT_HOME = 0.6
#: ... decaying with the distance from their home on this scale (metres).
UTILITY_SCALE_M = 700.0
#: Position k of the page is examined with probability EXAMINE ** k.
EXAMINE = 0.9


def proximity_model(*, nearer_is_better: bool, trained_at: datetime) -> TrainedModel:
    """A logistic regression taught that nearness is good (or, deliberately, bad).

    Fitted on uniform feature rows labelled by ``decay_place_1000`` alone, so it ranks by the
    distance to the resident's places, nearest first or farthest first. Its validation metrics
    say it beat stage 1 (the offline gate is not what is tested here).
    """
    rng = np.random.default_rng(7)
    x = rng.random((2000, len(FEATURE_NAMES)))
    near = x[:, FEATURE_NAMES.index("decay_place_1000")] > 0.5
    y = near if nearer_is_better else ~near
    estimator = logistic_regression_pipeline(seed=7).fit(x, y)
    return TrainedModel(
        estimator=estimator,
        kind="logistic_regression",
        feature_names=FEATURE_NAMES,
        feature_means=x.mean(axis=0),
        idf=Idf(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), 1.0, 1),
        trained_at=trained_at,
        metrics={"model": {"ndcg@10": 0.8, "auc": 0.8}, "stage1": {"ndcg@10": 0.7, "auc": 0.7}},
        data={"rows": 2000},
    )


def deploy(store: ModelStore, *, nearer_is_better: bool, minute: int) -> str:
    """Train-and-save as the nightly job would; returns the version now served."""
    at = datetime(2026, 3, 1, 4, minute, tzinfo=UTC)
    return store.save(proximity_model(nearer_is_better=nearer_is_better, trained_at=at))


@dataclass
class SimResident:
    resident: object
    home: tuple[float, float]  # metres east, north of the centre


def simulated_city(*, residents: int, items: int, seed: int) -> tuple[list[SimResident], dict]:
    """``items`` news scattered within 4 km of the centre, ``residents`` consenting residents
    with a home within 1.5 km; returns them and each item's (dx, dy) by (type, id)."""
    rng = np.random.default_rng(seed)
    where: dict[tuple[str, int], tuple[float, float]] = {}
    for _ in range(items):
        r, a = 4000 * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        dx, dy = r * math.cos(a), r * math.sin(a)
        item = news(dx, dy)
        where[("news", item.pk)] = (dx, dy)
    people = []
    for _ in range(residents):
        r, a = 1500 * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        home = (r * math.cos(a), r * math.sin(a))
        resident = consenting()
        add_place(resident, *home)
        people.append(SimResident(resident, home))
    return people, where


def visit(person: SimResident, where: dict, rng: np.random.Generator, *, page_size: int = 10):
    """One feed session: the first page, what the resident examines and opens, reported in
    one batch with each item's ``ranker`` token; returns the feed's body."""
    client = person.resident.client  # type: ignore[attr-defined]
    body = client.get(URL, {"page_size": page_size}).json()
    now = timezone.now() - timedelta(seconds=1)
    events = []
    for k, item in enumerate(body["results"]):
        if rng.random() >= EXAMINE**k:
            continue
        common = {"type": item["type"], "id": item["id"], "context": "feed", "position": k}
        if "ranker" in item:
            common["ranker"] = item["ranker"]
        events.append(
            {**common, "action": "impression", "at": now.isoformat(), "event_id": str(uuid.uuid4())}
        )
        dx, dy = where[(item["type"], item["id"])]
        d = math.hypot(dx - person.home[0], dy - person.home[1])
        if rng.random() < OPEN_AT_HOME * math.exp(-d / UTILITY_SCALE_M):
            events.append(
                {**common, "action": "open", "at": now.isoformat(), "event_id": str(uuid.uuid4())}
            )
    if events:
        response = client.post(INTERACTIONS, {"events": events}, format="json")
        assert response.status_code == 202, response.content
        assert response.json()["logged"] is True
    return body


def simulate(people: list[SimResident], where: dict, *, sessions: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [visit(person, where, rng) for _ in range(sessions) for person in people]
