"""Hashed term counts of items, cached per process by item version (type, id, ``updated_at``).

Encoding a thousand titles and summaries costs tens of milliseconds; the same items come back
request after request, so each web process keeps the counts of the versions it has seen
(``updated_at`` changes with every edit, so a cached row never outlives its text). The cache
holds at most ``max_items`` rows and starts over when full (a few megabytes).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import scipy.sparse as sp

from apps.recommend.engine.text_vectors import N_FEATURES, encode_texts

_Row = tuple[np.ndarray, np.ndarray]


class TextCache:
    def __init__(self, max_items: int = 100_000) -> None:
        self.max_items = max_items
        self._rows: dict[Hashable, _Row] = {}

    def clear(self) -> None:
        self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, keys: Sequence[Hashable], texts: Sequence[str]) -> sp.csr_matrix:
        """The hashed counts of ``texts`` (``len(keys) x N_FEATURES``), encoding only misses."""
        cached = self._rows
        missing = [k for k, key in enumerate(keys) if key not in cached]
        if missing:
            if len(cached) + len(missing) > self.max_items:
                cached.clear()
            encoded = encode_texts([texts[k] or "" for k in missing])
            for j, k in enumerate(missing):
                start, end = encoded.indptr[j], encoded.indptr[j + 1]
                cached[keys[k]] = (
                    encoded.indices[start:end].copy(),
                    encoded.data[start:end].copy(),
                )
        pieces = [cached[key] for key in keys]
        lengths = np.fromiter((len(p[0]) for p in pieces), dtype=np.int64, count=len(pieces))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        if pieces and indptr[-1]:
            indices = np.concatenate([p[0] for p in pieces])
            data = np.concatenate([p[1] for p in pieces])
        else:
            indices = np.zeros(0, dtype=np.int32)
            data = np.zeros(0, dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(keys), N_FEATURES))


#: The process-wide cache the feed and the trainer use.
TEXT_CACHE = TextCache()
