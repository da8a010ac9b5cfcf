"""Versioned model files under ``settings.RECOMMENDER_MODEL_DIR``, with fallback to stage 1.

Each save writes ``model-<version>.joblib`` (the estimator and the text IDF) and
``model-<version>.json`` (version, kind, feature names, training date, data sizes, validation
metrics of the model *and* of stage 1, the serving gate's population checks, library versions,
SHA-256 of the model file), then points ``LATEST`` at it atomically. A model the gate refused
is not saved: ``record_refused`` writes its sidecar alone as ``refused-<version>.json`` (the
same fields, no model file, ``LATEST`` untouched) so that the reason stays on record.

``load`` never raises: whenever the model cannot be trusted
— no model yet, file missing, unsigned or badly signed sidecar, checksum or unpickling failure,
a pickle naming a module or class that no longer exists, other feature names, other
scikit-learn, worse than stage 1 on validation, or refused by the serving gate — it returns a
``Stage1Ranker`` whose ``fallback_reason`` says why.

The model file pickles scikit-learn and numpy objects only, never a class of this app, so
moving the app's modules (issue 12 split it into engine/offline/online) leaves the files
already trained loadable (tests/recommend/test_store.py checks both).

Unpickling runs code, so only files this site wrote are unpickled: the sidecar carries an
HMAC-SHA256 of its content (the model file's SHA-256 included) keyed from ``SECRET_KEY``
(``metadata_signature``; keys in ``SECRET_KEY_FALLBACKS`` are accepted, so a key rotation
does not drop the model). Someone who can write the model directory but does not hold the
secret key cannot get a pickle of theirs loaded (docs/deploy.md, Security checklist).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import sklearn

from apps.recommend.engine.features import FEATURE_NAMES
from apps.recommend.engine.ranking import ModelRanker, Ranker, Stage1Ranker
from apps.recommend.engine.text_vectors import Idf

if TYPE_CHECKING:  # the feed reads models without loading the offline code that fits them
    from apps.recommend.offline.fitting import TrainedModel

logger = logging.getLogger(__name__)

SCHEMA = 1
LATEST = "LATEST"
SIGNATURE = "signature"
_SIGNATURE_SALT = "quartier.recommend.store.model"


def metadata_signature(metadata: dict[str, Any], *, secret: str | None = None) -> str:
    """HMAC-SHA256 (hex) of ``metadata`` without its signature, keyed from ``secret``
    (``settings.SECRET_KEY`` by default), over its canonical JSON."""
    # Imported here: the offline evaluation saves through the store, yet loads no Django
    # (test_features).
    from django.conf import settings
    from django.utils.crypto import salted_hmac

    content = {k: v for k, v in metadata.items() if k != SIGNATURE}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return salted_hmac(
        _SIGNATURE_SALT, canonical, secret=secret or settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def _signed_by_this_site(metadata: dict[str, Any]) -> bool:
    from django.conf import settings
    from django.utils.crypto import constant_time_compare

    signature = metadata.get(SIGNATURE)
    if not isinstance(signature, str):
        return False
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        constant_time_compare(signature, metadata_signature(metadata, secret=secret))
        for secret in secrets
    )


def _clean(value: Any) -> Any:
    """JSON-safe metrics: NaN becomes null."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ModelStore:
    """The model directory. ``directory`` defaults to ``settings.RECOMMENDER_MODEL_DIR``."""

    def __init__(self, directory: str | Path | None = None, *, keep: int = 5) -> None:
        if directory is None:
            from django.conf import settings

            directory = settings.RECOMMENDER_MODEL_DIR
        self.directory = Path(directory)
        #: ``LATEST``'s path as text: ``current`` stats it at every feed request.
        self._latest = os.fspath(self.directory / LATEST)
        self.keep = keep
        self._cache: tuple[tuple[int, int], Ranker] | None = None
        self._previous: tuple[tuple[int, int], Ranker] | None = None

    def model_path(self, version: str) -> Path:
        return self.directory / f"model-{version}.joblib"

    def metadata_path(self, version: str) -> Path:
        return self.directory / f"model-{version}.json"

    def save(self, trained: TrainedModel) -> str:
        """Write the model and its sidecar, make it the latest; returns its version."""
        self.directory.mkdir(parents=True, exist_ok=True)
        version = trained.trained_at.strftime("%Y%m%dT%H%M%S%fZ")
        bundle = {
            "estimator": trained.estimator,
            "feature_means": trained.feature_means,
            "idf": (
                trained.idf.indices,
                trained.idf.values,
                trained.idf.default,
                trained.idf.n_documents,
            ),
        }
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".model-")
        os.close(fd)
        try:
            joblib.dump(bundle, tmp, compress=3)
            os.replace(tmp, self.model_path(version))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        metadata = self._metadata(trained, version) | {"sha256": _sha256(self.model_path(version))}
        metadata[SIGNATURE] = metadata_signature(metadata)
        text = json.dumps(metadata, indent=2, sort_keys=True).encode()
        _write_atomic(self.metadata_path(version), text)
        _write_atomic(self.directory / LATEST, version.encode())
        self._prune()
        return version

    @staticmethod
    def _metadata(trained: TrainedModel, version: str) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": version,
            "kind": trained.kind,
            "feature_names": list(trained.feature_names),
            "trained_at": trained.trained_at.isoformat(),
            "metrics": _clean(trained.metrics),
            "data": trained.data,
            "gate": _clean(trained.gate),
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
        }

    def refused_path(self, version: str) -> Path:
        return self.directory / f"refused-{version}.json"

    def record_refused(self, trained: TrainedModel, reason: str) -> str:
        """Keep the sidecar of a model that is not served, with ``reason``; returns its version.

        No model file is written and ``LATEST`` is not moved: what is served stays.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        version = trained.trained_at.strftime("%Y%m%dT%H%M%S%fZ")
        metadata = self._metadata(trained, version) | {"refused": reason}
        text = json.dumps(metadata, indent=2, sort_keys=True).encode()
        _write_atomic(self.refused_path(version), text)
        for old in sorted(self.directory.glob("refused-*.json"))[: -self.keep]:
            old.unlink(missing_ok=True)
        return version

    def _prune(self) -> None:
        for old in self.versions()[: -self.keep]:
            self.model_path(old).unlink(missing_ok=True)
            self.metadata_path(old).unlink(missing_ok=True)
            self.rejected_path(old).unlink(missing_ok=True)

    def latest_version(self) -> str | None:
        try:
            return (self.directory / LATEST).read_text().strip() or None
        except OSError:
            return None

    def metadata(self, version: str | None = None) -> dict[str, Any] | None:
        version = version or self.latest_version()
        if version is None:
            return None
        try:
            data = json.loads(self.metadata_path(version).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def load(self) -> Ranker:
        """The ranker to serve: the latest model, or stage 1 with the reason (never raises)."""
        version = self.latest_version()
        if version is None:
            return Stage1Ranker(fallback_reason="no model trained yet")
        return self.load_version(version)

    def load_version(self, version: str) -> Ranker:
        """Model ``version`` if it can be trusted, else stage 1 with the reason (never raises)."""
        try:
            return self._load(version)
        except _RejectedError as fallback:
            logger.warning("recommender model %s not used: %s", version, fallback)
            return Stage1Ranker(fallback_reason=str(fallback))

    def versions(self) -> list[str]:
        """The versions kept in the directory, oldest first."""
        return sorted(p.stem.removeprefix("model-") for p in self.directory.glob("model-*.json"))

    def record_online(self, version: str, online: dict[str, Any]) -> bool:
        """Write the online evaluation's result of ``version`` into its sidecar (``online``),
        signed again; the public ranking notice reads it there. Only a sidecar this site
        signed is rewritten; returns whether it was."""
        meta = self.metadata(version)
        if meta is None or not _signed_by_this_site(meta):
            return False
        meta["online"] = _clean(online)
        meta[SIGNATURE] = metadata_signature(meta)
        text = json.dumps(meta, indent=2, sort_keys=True).encode()
        _write_atomic(self.metadata_path(version), text)
        return True

    def rejected_path(self, version: str) -> Path:
        return self.directory / f"rolled-back-{version}.json"

    def rolled_back(self, version: str) -> dict[str, Any] | None:
        """Why ``version`` was rolled back (``rollback``), or ``None``."""
        try:
            data = json.loads(self.rejected_path(version).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else {}

    def previous_version(self, version: str | None = None) -> str | None:
        """The newest kept version older than ``version`` (the latest by default) that was not
        rolled back, or ``None``: the predecessor interleaving and rollbacks go back to."""
        version = version or self.latest_version()
        older = [v for v in self.versions() if version is None or v < version]
        return next((v for v in reversed(older) if self.rolled_back(v) is None), None)

    def rollback(self, version: str, *, reason: str, details: dict[str, Any]) -> str | None:
        """Stop serving ``version``: record why next to it and, if it is ``LATEST``, serve its
        predecessor (``previous_version``), or stage 1 when there is none. Returns the version
        served now (``None``: stage 1). Idempotent.

        The record is a file beside the model (``rolled-back-<version>.json``): ``load``
        refuses a version that has one, whatever ``LATEST`` says, so a process that reads
        ``LATEST`` before it moves still falls back at its next check.
        """
        record = {"version": version, "reason": reason, **details}
        text = json.dumps(_clean(record), indent=2, sort_keys=True).encode()
        _write_atomic(self.rejected_path(version), text)
        previous = self.previous_version(version)
        if self.latest_version() == version:
            # Rewritten even when it keeps naming ``version`` (no predecessor: stage 1 serves,
            # with the rollback as its reason): every process sees it change and reloads.
            _write_atomic(self.directory / LATEST, (previous or version).encode())
        return previous

    def _stamp(self) -> tuple[int, int]:
        try:
            stat = os.stat(self._latest)
            return (stat.st_mtime_ns, stat.st_size)
        except OSError:
            return (0, 0)

    def current(self) -> Ranker:
        """``load``, cached until ``LATEST`` changes (for the feed: one disk read per model)."""
        stamp = self._stamp()
        if self._cache is None or self._cache[0] != stamp:
            self._cache = (stamp, self.load())
        return self._cache[1]

    def previous(self) -> Ranker:
        """The predecessor of the latest version (``previous_version``) loaded, or stage 1;
        cached like ``current`` (the online evaluation's ``previous`` reference)."""
        stamp = self._stamp()
        if self._previous is None or self._previous[0] != stamp:
            version = self.previous_version()
            ranker = (
                self.load_version(version)
                if version
                else Stage1Ranker(fallback_reason="no previous model")
            )
            self._previous = (stamp, ranker)
        return self._previous[1]

    def _load(self, version: str) -> Ranker:
        rolled_back = self.rolled_back(version)
        if rolled_back is not None:
            raise _RejectedError(f"rolled back: {rolled_back.get('reason') or 'online evaluation'}")
        meta = self.metadata(version)
        if meta is None:
            raise _RejectedError("metadata missing or unreadable")
        # First: nothing else of the sidecar is believed, nor the pickle opened, before this.
        if SIGNATURE not in meta:
            raise _RejectedError("model unsigned (not written by this site's store): retrain")
        if not _signed_by_this_site(meta):
            raise _RejectedError("model signature mismatch (tampered, or another secret key)")
        if meta.get("schema") != SCHEMA:
            raise _RejectedError(f"metadata schema {meta.get('schema')!r}, expected {SCHEMA}")
        if tuple(meta.get("feature_names") or ()) != FEATURE_NAMES:
            raise _RejectedError("trained on other feature names")
        if meta.get("sklearn") != sklearn.__version__:
            raise _RejectedError(
                f"trained with scikit-learn {meta.get('sklearn')}, running {sklearn.__version__}"
            )
        metrics = meta.get("metrics") or {}
        model_ndcg = (metrics.get("model") or {}).get("ndcg@10")
        stage1_ndcg = (metrics.get("stage1") or {}).get("ndcg@10")
        if not isinstance(model_ndcg, int | float) or not isinstance(stage1_ndcg, int | float):
            raise _RejectedError("no validation metrics")
        if model_ndcg < stage1_ndcg:
            raise _RejectedError(
                f"worse than stage 1 on validation (nDCG@10 {model_ndcg:.4f} < {stage1_ndcg:.4f})"
            )
        gate = meta.get("gate") or {}
        if gate.get("passed") is False:
            raise _RejectedError(f"refused by the serving gate: {gate.get('reason')}")
        path = self.model_path(version)
        try:
            checksum = _sha256(path)
        except OSError as error:
            raise _RejectedError(f"model file unreadable: {error.strerror or error}") from error
        if checksum != meta.get("sha256"):
            raise _RejectedError("model file corrupt (checksum mismatch)")
        try:
            bundle = joblib.load(path)
        except (ImportError, AttributeError) as error:
            # The pickle names a module or class that is gone (a class of ours moved, or a
            # library changed): only scikit-learn and numpy objects are stored, so today this
            # means a library upgrade the version check missed; retraining fixes it.
            raise _RejectedError(
                f"model file refers to code that no longer exists ({type(error).__name__}): retrain"
            ) from error
        except Exception as error:  # unpickling garbage raises anything
            raise _RejectedError(f"model file unusable: {type(error).__name__}") from error
        try:
            indices, values, default, n_documents = bundle["idf"]
            idf = Idf(np.asarray(indices), np.asarray(values), float(default), int(n_documents))
            ranker = ModelRanker(
                estimator=bundle["estimator"],
                feature_means=np.asarray(bundle["feature_means"], dtype=np.float64),
                idf=idf,
                version=version,
                kind=str(meta.get("kind")),
            )
            # A model that cannot score one row must not reach the feed.
            probe = ranker.score(np.asarray(bundle["feature_means"], dtype=np.float64)[None, :])
        except Exception as error:  # a bundle of another shape, or a model that cannot score
            raise _RejectedError(f"model file unusable: {type(error).__name__}") from error
        if probe.shape != (1,) or not np.isfinite(probe).all():
            raise _RejectedError("model gives no finite score")
        return ranker


class _RejectedError(Exception):
    """Why the stored model is not served."""
