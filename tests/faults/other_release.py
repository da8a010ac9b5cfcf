"""Cache values as another release of Quartier writes them (rolling deploys, shared Redis)."""

from __future__ import annotations

import pickle
import sys
import types
from dataclasses import dataclass

#: Where ``Snapshot`` lived before the recommend app was split into engine/offline/online.
OLD_MODULE = "apps.recommend.feed.snapshot"


def old_release_snapshot() -> bytes:
    """A feed snapshot as pickled by a release whose ``Snapshot`` lived in ``OLD_MODULE``.

    The class exists only while it is pickled, as on the other release's server: this code
    cannot load it back (``ModuleNotFoundError``), exactly as with the real pre-split pickle.
    """
    module = types.ModuleType(OLD_MODULE)

    @dataclass(frozen=True)
    class Snapshot:
        key: str
        scores: list[float]

    Snapshot.__module__, Snapshot.__qualname__ = OLD_MODULE, "Snapshot"
    module.Snapshot = Snapshot  # type: ignore[attr-defined]
    sys.modules[OLD_MODULE] = module
    try:
        return pickle.dumps(Snapshot("x", [1.0]), pickle.HIGHEST_PROTOCOL)
    finally:
        del sys.modules[OLD_MODULE]
