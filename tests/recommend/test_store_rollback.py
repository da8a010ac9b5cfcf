"""``ModelStore.rollback``: the record beside the model, the predecessor, stage 1, pruning."""

from __future__ import annotations

import pytest

from apps.recommend.engine.ranking import ModelRanker, Stage1Ranker
from apps.recommend.store import ModelStore
from tests.recommend.online_support import deploy

pytestmark = pytest.mark.django_db  # nothing is read from the database; settings are


def test_rollback_serves_the_predecessor_not_rolled_back(model_dir):
    store = ModelStore(model_dir)
    first = deploy(store, nearer_is_better=True, minute=1)
    second = deploy(store, nearer_is_better=True, minute=2)
    third = deploy(store, nearer_is_better=False, minute=3)
    assert store.previous_version() == second
    assert store.previous().version == second  # loaded once per LATEST (the feed's reference)

    assert store.rollback(third, reason="worse online", details={"losses": 9}) == second
    assert store.latest_version() == second and store.load().version == second
    assert store.rolled_back(third) == {"version": third, "reason": "worse online", "losses": 9}
    served = store.load_version(third)
    assert isinstance(served, Stage1Ranker)
    assert served.fallback_reason == "rolled back: worse online"
    # Rolled back versions are skipped when looking for a predecessor.
    assert store.rollback(second, reason="worse too", details={}) == first
    assert store.previous_version() is None
    assert store.previous().fallback_reason == "no previous model"
    assert isinstance(store.load(), ModelRanker) and store.load().version == first
    assert store.versions() == [first, second, third]


def test_rollback_without_predecessor_serves_stage1_and_is_idempotent(model_dir):
    store = ModelStore(model_dir)
    only = deploy(store, nearer_is_better=False, minute=1)
    assert store.rollback(only, reason="worse online", details={}) is None
    assert store.rollback(only, reason="worse online", details={}) is None
    assert store.latest_version() == only
    assert store.load().fallback_reason == "rolled back: worse online"


def test_pruning_removes_the_rollback_records_with_their_models(model_dir):
    store = ModelStore(model_dir, keep=2)
    first = deploy(store, nearer_is_better=False, minute=1)
    store.rollback(first, reason="worse", details={})
    deploy(store, nearer_is_better=True, minute=2)
    deploy(store, nearer_is_better=True, minute=3)
    assert not store.rejected_path(first).exists() and store.rolled_back(first) is None


def test_the_online_result_is_signed_into_the_sidecar_of_a_model_this_site_wrote(model_dir):
    store = ModelStore(model_dir)
    version = deploy(store, nearer_is_better=True, minute=1)
    assert store.record_online(version, {"method": "interleaving", "wins": 3, "losses": 1})
    assert store.metadata(version)["online"] == {"method": "interleaving", "wins": 3, "losses": 1}
    assert store.load().version == version  # still trusted: signed again
    path = store.metadata_path(version)
    path.write_text(path.read_text().replace('"wins": 3', '"wins": 30'))  # tampered
    assert not store.record_online(version, {"wins": 4})
    assert store.metadata(version)["online"]["wins"] == 30
