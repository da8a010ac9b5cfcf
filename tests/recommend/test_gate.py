"""The serving gate: a model replaces stage 1 only if it also holds up against nearest-first."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from apps.recommend.engine.features import FEATURE_INDEX, FEATURE_NAMES
from apps.recommend.engine.ranking import Stage1Ranker
from apps.recommend.offline.gate import MIN_SEGMENT_REQUESTS, nearest_first_scores, serving_gate
from apps.recommend.store import ModelStore


def _requests(declared_counts: list[int], *, seed: int = 0) -> dict[str, np.ndarray]:
    """Held-out rows: per request 5 impressed items, the positive is the nearest one."""
    rng = np.random.default_rng(seed)
    blocks = []
    for g, declared in enumerate(declared_counts):
        values = rng.random((5, len(FEATURE_NAMES)))
        gain = np.zeros(5)
        gain[np.argmax(values[:, FEATURE_INDEX["decay_place_3000"]])] = 1.0
        blocks.append((values, gain, np.full(5, g), np.full(5, declared)))
    return {
        "values": np.vstack([b[0] for b in blocks]),
        "gain": np.concatenate([b[1] for b in blocks]),
        "group": np.concatenate([b[2] for b in blocks]),
        "declared": np.concatenate([b[3] for b in blocks]),
    }


def test_gate_serves_a_model_as_good_as_nearest_first_everywhere():
    rows = _requests([0] * 40 + [1] * 40 + [3] * 40)
    perfect = nearest_first_scores(rows["values"])
    gate = serving_gate(**rows, model_scores=perfect, stage1_scores=np.zeros(len(perfect)))
    assert gate.passed and gate.reason == "served"
    assert [c.segment for c in gate.checks] == [
        "everyone",
        "no declared category",
        "one declared category",
        "several declared categories",
    ]
    assert [c.requests for c in gate.checks] == [120, 40, 40, 40]
    assert all(c.checked and c.model == pytest.approx(1.0) for c in gate.checks)


def test_gate_refuses_a_model_that_loses_to_nearest_first_on_one_population():
    rows = _requests([0] * 40 + [1] * 40 + [3] * 40)
    scores = nearest_first_scores(rows["values"]).copy()
    one = rows["declared"] == 1
    scores[one] = -scores[one]  # the worst order for the residents who declared one category
    gate = serving_gate(**rows, model_scores=scores, stage1_scores=np.zeros(len(scores)))
    assert not gate.passed
    assert gate.reason.startswith("worse than nearest-first on the held-out days: ")
    assert "one declared category" in gate.reason
    assert "no declared category" not in gate.reason
    failed = [c.segment for c in gate.checks if not c.passed]
    assert failed == ["everyone", "one declared category"]  # everyone includes them
    json.dumps(gate.as_dict(), allow_nan=False)  # stored as is in the model's sidecar


def test_gate_refuses_a_model_worse_than_stage1_first():
    rows = _requests([2] * 40)
    nearest = nearest_first_scores(rows["values"])
    gate = serving_gate(**rows, model_scores=-nearest, stage1_scores=nearest)
    assert not gate.passed and gate.reason.startswith("worse than stage 1 on the held-out days")


def test_gate_does_not_check_a_population_too_small_to_measure():
    small = MIN_SEGMENT_REQUESTS - 1
    rows = _requests([0] * 40 + [1] * small)
    scores = nearest_first_scores(rows["values"]).copy()
    one = rows["declared"] == 1
    scores[one] = -scores[one]
    gate = serving_gate(**rows, model_scores=scores, stage1_scores=np.full(len(scores), -1.0))
    by_name = {c.segment: c for c in gate.checks}
    assert by_name["one declared category"].requests == small
    assert not by_name["one declared category"].checked
    assert by_name["several declared categories"].requests == 0
    # Everyone still counts the small population's requests; the model loses there too.
    assert by_name["everyone"].checked
    assert gate.passed == (by_name["everyone"].model >= by_name["everyone"].nearest)


def test_trained_model_carries_its_gate(trained):
    assert set(trained.gate) == {"passed", "reason", "checks"}
    assert trained.gate["checks"][0]["segment"] == "everyone"
    assert trained.servable == (trained.beats_stage1 and trained.gate["passed"])


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models")


def test_store_refuses_to_serve_a_model_the_gate_refused(store, trained):
    refused = replace(
        trained, gate={"passed": False, "reason": "worse than nearest-first", "checks": []}
    )
    store.save(refused)
    ranker = store.load()
    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason == "refused by the serving gate: worse than nearest-first"


def test_store_keeps_the_sidecar_of_a_refused_model_without_serving_it(store, trained):
    served = store.save(trained)
    refused = replace(
        trained,
        trained_at=trained.trained_at.replace(year=trained.trained_at.year + 1),
        gate={"passed": False, "reason": "worse than nearest-first", "checks": []},
    )
    version = store.record_refused(refused, "not saved: refused by the serving gate")
    assert store.latest_version() == served
    assert not store.model_path(version).exists()
    sidecar = json.loads(store.refused_path(version).read_text())
    assert sidecar["refused"] == "not saved: refused by the serving gate"
    assert sidecar["gate"]["passed"] is False
    assert sidecar["metrics"]["stage1"]["ndcg@10"] == trained.metrics["stage1"]["ndcg@10"]
    assert store.metadata(served)["gate"] == json.loads(json.dumps(trained.gate))
