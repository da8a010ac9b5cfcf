"""The model store: versioned files, metadata, and fallback to stage 1 whenever in doubt."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from apps.recommend.engine.features import FEATURE_NAMES
from apps.recommend.engine.ranking import ModelRanker, Stage1Ranker
from apps.recommend.store import LATEST, SIGNATURE, ModelStore, metadata_signature


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models", keep=3)


def _rewrite_metadata(store: ModelStore, version: str, *, sign: bool = True, **changes) -> None:
    """Change the sidecar; re-signed with the site's key unless ``sign`` is False (an attacker
    without the key)."""
    path = store.metadata_path(version)
    data = json.loads(path.read_text())
    data.update(changes)
    if sign:
        data[SIGNATURE] = metadata_signature(data)
    path.write_text(json.dumps(data))


def test_store_save_and_load_round_trip(store, trained):
    version = store.save(trained)
    ranker = store.load()
    assert isinstance(ranker, ModelRanker)
    assert ranker.version == version and ranker.kind == trained.kind
    values = np.random.default_rng(3).random((20, len(FEATURE_NAMES)))
    np.testing.assert_allclose(ranker.score(values), trained.estimator.decision_function(values))
    np.testing.assert_array_equal(ranker.idf.dense, trained.idf.dense)
    meta = store.metadata()
    assert meta["version"] == version
    assert meta["feature_names"] == list(FEATURE_NAMES)
    assert meta["metrics"]["model"]["ndcg@10"] == pytest.approx(trained.metrics["model"]["ndcg@10"])
    assert meta["metrics"]["stage1"]["auc"] == pytest.approx(trained.metrics["stage1"]["auc"])
    assert meta["trained_at"] == trained.trained_at.isoformat()
    assert meta["data"]["rows"] == trained.data["rows"]


def test_store_falls_back_when_no_model_was_trained(store):
    ranker = store.load()
    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason == "no model trained yet"


def test_store_falls_back_when_the_model_file_is_missing(store, trained):
    version = store.save(trained)
    store.model_path(version).unlink()
    ranker = store.load()
    assert isinstance(ranker, Stage1Ranker)
    assert "unreadable" in ranker.fallback_reason


def test_store_falls_back_when_the_model_file_is_corrupt(store, trained):
    version = store.save(trained)
    store.model_path(version).write_bytes(b"\x00garbage\xff" * 100)
    ranker = store.load()
    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason == "model file corrupt (checksum mismatch)"


def test_store_falls_back_when_a_corrupt_file_matches_its_checksum(store, trained):
    """Garbage that someone holding the key also re-hashed into the sidecar is never served."""
    import hashlib

    version = store.save(trained)
    garbage = b"not a pickle at all"
    store.model_path(version).write_bytes(garbage)
    _rewrite_metadata(store, version, sha256=hashlib.sha256(garbage).hexdigest())
    ranker = store.load()
    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason.startswith("model file unusable")


def test_store_falls_back_when_the_metadata_is_garbage(store, trained):
    version = store.save(trained)
    store.metadata_path(version).write_bytes(b"{not json")
    assert store.load().fallback_reason == "metadata missing or unreadable"


def test_store_falls_back_on_other_feature_names(store, trained):
    version = store.save(trained)
    _rewrite_metadata(store, version, feature_names=[*FEATURE_NAMES[:-1], "something_else"])
    assert store.load().fallback_reason == "trained on other feature names"


def test_store_falls_back_on_another_scikit_learn(store, trained):
    version = store.save(trained)
    _rewrite_metadata(store, version, sklearn="0.24.2")
    assert "scikit-learn 0.24.2" in store.load().fallback_reason


def test_store_falls_back_when_the_model_was_worse_than_stage1(store, trained):
    metrics = dict(trained.metrics)
    metrics["model"] = {**metrics["model"], "ndcg@10": metrics["stage1"]["ndcg@10"] - 0.01}
    worse = replace(trained, metrics=metrics)
    assert not worse.beats_stage1
    store.save(worse)
    ranker = store.load()
    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason.startswith("worse than stage 1 on validation")


def test_store_current_follows_the_latest_version_and_prunes_old_files(store, trained):
    first = store.save(trained)
    assert store.current().version == first
    assert store.current() is store.current()  # cached while LATEST is unchanged
    versions = [first]
    for k in range(1, 5):
        versions.append(
            store.save(replace(trained, trained_at=trained.trained_at + timedelta(minutes=k)))
        )
    assert store.latest_version() == versions[-1]
    assert (store.directory / LATEST).read_text() == versions[-1]
    assert store.current().version == versions[-1]
    kept = sorted(p.name for p in store.directory.glob("model-*"))
    assert kept == sorted(f"model-{v}.{ext}" for v in versions[-3:] for ext in ("joblib", "json"))


def test_store_defaults_to_the_configured_directory(settings, tmp_path):
    settings.RECOMMENDER_MODEL_DIR = str(tmp_path / "configured")
    assert ModelStore().directory == tmp_path / "configured"


# --- signing: only this site's pickles are ever opened ------------------------------------------


class _Payload:
    """A pickle that runs code when loaded: it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _plant_pickle(store: ModelStore, version: str, marker) -> None:
    """What an attacker who can write the model directory, but holds no key, can do."""
    import hashlib
    import pickle

    data = pickle.dumps({"estimator": _Payload(marker)})
    store.model_path(version).write_bytes(data)
    _rewrite_metadata(store, version, sign=False, sha256=hashlib.sha256(data).hexdigest())


def test_store_refuses_a_tampered_model_without_unpickling_it(store, trained, tmp_path):
    marker = tmp_path / "pwned"
    version = store.save(trained)
    _plant_pickle(store, version, marker)

    ranker = store.load()

    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason.startswith("model signature mismatch")
    assert not marker.exists()


def test_store_refuses_an_unsigned_model(store, trained, tmp_path):
    marker = tmp_path / "pwned"
    version = store.save(trained)
    _plant_pickle(store, version, marker)
    path = store.metadata_path(version)
    data = json.loads(path.read_text())
    del data[SIGNATURE]
    path.write_text(json.dumps(data))

    ranker = store.load()

    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason.startswith("model unsigned")
    assert not marker.exists()


def test_store_refuses_a_model_signed_with_another_key(store, trained, settings):
    settings.SECRET_KEY = "another-site-" + "k3y" * 20
    store.save(trained)
    settings.SECRET_KEY = "this-site-" + "s3cr3t" * 10

    ranker = store.load()

    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason.startswith("model signature mismatch")


def test_store_accepts_a_model_signed_with_a_fallback_key(store, trained, settings):
    old_key = "before-rotation-" + "k3y" * 20
    settings.SECRET_KEY = old_key
    version = store.save(trained)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "after-rotation-" + "n3w" * 20, [old_key]

    ranker = store.load()

    assert isinstance(ranker, ModelRanker)
    assert ranker.version == version


# The classes a model file names, read by unpickling it in a fresh interpreter with an audit
# hook (pickle raises the ``pickle.find_class`` event for every class or function it looks up).
_PICKLED_GLOBALS = """
import sys
import joblib

found = set()
sys.addaudithook(
    lambda event, args: found.add(args[0]) if event == "pickle.find_class" else None
)
joblib.load(sys.argv[1])
print("\\n".join(sorted(found)))
"""


def test_store_model_file_pickles_no_class_of_this_project(store, trained):
    """Moving a module of ours can never break a model file already trained."""
    import subprocess
    import sys
    from pathlib import Path

    version = store.save(trained)
    out = subprocess.run(
        [sys.executable, "-c", _PICKLED_GLOBALS, str(store.model_path(version))],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(out.stdout.split())
    assert any(m.startswith("sklearn.") for m in modules)  # the audit hook saw the estimator
    assert {m.split(".")[0] for m in modules} <= {
        "sklearn", "numpy", "scipy", "joblib", "builtins", "copyreg", "_codecs", "collections"
    }  # fmt: skip


def test_store_falls_back_when_the_model_file_names_code_that_moved(store, trained, monkeypatch):
    import hashlib
    import io
    import sys
    import types

    import joblib

    version = store.save(trained)
    # A bundle as an older layout could have written it: a class in ``apps.recommend.training``,
    # a module the split into engine/offline/online removed.
    old = types.ModuleType("apps.recommend.training")
    old.Legacy = type("Legacy", (), {"__module__": old.__name__})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, old.__name__, old)
    buffer = io.BytesIO()
    bundle = {"estimator": old.Legacy(), "feature_means": trained.feature_means, "idf": None}
    joblib.dump(bundle, buffer)
    monkeypatch.delitem(sys.modules, old.__name__)
    data = buffer.getvalue()
    store.model_path(version).write_bytes(data)
    _rewrite_metadata(store, version, sha256=hashlib.sha256(data).hexdigest())

    ranker = store.load()

    assert isinstance(ranker, Stage1Ranker)
    assert ranker.fallback_reason == (
        "model file refers to code that no longer exists (ModuleNotFoundError): retrain"
    )
