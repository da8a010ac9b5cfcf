"""Text vectors of items: hashed term counts, TF-IDF weighting and cosine similarities.

Texts (title and summary) are hashed into a fixed space (scikit-learn's ``HashingVectorizer``),
so encoding needs no vocabulary and a candidate's vector can be cached with the item. The IDF
weights are fitted on the catalog when a model is trained and travel with that model
(``Idf``); without them every term weighs the same. Weighting happens when features are
computed, so cached raw counts stay valid across model versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer

N_FEATURES = 2**18

# Lower-case, accent-stripped French function words (the vectorizer strips accents first).
# fmt: off
FRENCH_STOP_WORDS = frozenset((
    "alors", "au", "aucun", "aussi", "autre", "aux", "avec", "avoir", "bon", "car", "ce", "cela",
    "ces", "cet", "cette", "ceux", "chaque", "ci", "comme", "comment", "dans", "de", "des", "du",
    "dedans", "dehors", "depuis", "devrait", "doit", "donc", "dos", "debut", "elle", "elles",
    "en", "encore", "est", "et", "etaient", "etait", "etant", "ete", "etre", "eu", "fait",
    "faites", "fois", "font", "hors", "ici", "il", "ils", "je", "juste", "la", "le", "les",
    "leur", "leurs", "lui", "ma", "mais", "me", "meme", "mes", "moins", "mon", "mot", "ni", "nos",
    "notre", "nous", "on", "ou", "par", "parce", "pas", "peu", "peut", "plupart", "pour",
    "pourquoi", "quand", "que", "quel", "quelle", "quelles", "quels", "qui", "sa", "sans", "ses",
    "seulement", "si", "sien", "son", "sont", "sous", "soyez", "sujet", "sur", "ta", "tandis",
    "tellement", "tels", "tes", "ton", "tous", "tout", "toute", "toutes", "tres", "trop", "tu",
    "une", "un", "vos", "votre", "vous", "vu", "ca", "sera", "seront", "cest", "plus", "entre",
    "lors", "afin", "apres", "avant", "chez", "vers", "via", "selon", "ainsi", "deux", "trois",
    "jour", "jours"
))
# fmt: on
STOP_WORDS = sorted(FRENCH_STOP_WORDS | ENGLISH_STOP_WORDS)

_VECTORIZER = HashingVectorizer(
    n_features=N_FEATURES,
    alternate_sign=False,
    norm=None,
    lowercase=True,
    strip_accents="unicode",
    stop_words=STOP_WORDS,
    # Words of three letters or more; digits (house numbers, dates) carry no topic.
    token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
    dtype=np.float32,
)


def encode_texts(texts: Sequence[str]) -> sp.csr_matrix:
    """Raw hashed term counts, one row per text (``len(texts) x N_FEATURES``)."""
    if not texts:
        return sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    matrix = _VECTORIZER.transform(list(texts))
    return sp.csr_matrix(matrix, dtype=np.float32)


def empty_texts(n: int) -> sp.csr_matrix:
    """``n`` empty rows (items without text): built from its three arrays, which costs half
    of scipy's shape constructor (several per feed request)."""
    return sp.csr_matrix(
        (np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int32), np.zeros(n + 1, np.int32)),
        shape=(n, N_FEATURES),
    )


def take_rows(matrix: sp.csr_matrix, rows) -> sp.csr_matrix:
    """``matrix[rows]`` for a CSR matrix, without scipy's fancy-indexing overhead."""
    rows = np.asarray(rows)
    rows = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    gather = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
    return sp.csr_matrix(
        (matrix.data[gather], matrix.indices[gather], indptr), shape=(len(rows), matrix.shape[1])
    )


@dataclass(frozen=True, eq=False)
class Idf:
    """Smoothed inverse document frequencies of the hashed terms seen in a corpus.

    Stored sparsely: ``indices`` are the hash buckets seen, ``values`` their IDF; every other
    bucket gets ``default`` (the IDF of a term seen in no document).
    """

    indices: np.ndarray
    values: np.ndarray
    default: float
    n_documents: int

    @classmethod
    def fit(cls, counts: sp.csr_matrix) -> Idf:
        """IDF as scikit-learn's ``smooth_idf``: ``ln((1 + n) / (1 + df)) + 1``."""
        counts = sp.csr_matrix(counts)
        counts.sum_duplicates()
        n = counts.shape[0]
        df = np.bincount(counts.indices[counts.data > 0], minlength=counts.shape[1])
        seen = np.flatnonzero(df)
        values = np.log((1.0 + n) / (1.0 + df[seen])) + 1.0
        default = float(np.log(1.0 + n) + 1.0)
        return cls(seen.astype(np.int32), values.astype(np.float32), default, int(n))

    @cached_property
    def dense(self) -> np.ndarray:
        weights = np.full(N_FEATURES, self.default, dtype=np.float32)
        weights[self.indices] = self.values
        return weights


def _row_of_entry(matrix: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def tfidf(counts: sp.csr_matrix, idf: Idf | None) -> sp.csr_matrix:
    """Sublinear TF x IDF, rows L2-normalised (empty rows stay empty).

    Works on the CSR arrays directly: this runs for every request and every training request.
    """
    counts = counts if sp.isspmatrix_csr(counts) else sp.csr_matrix(counts)
    data = 1.0 + np.log(np.maximum(counts.data.astype(np.float32), 1.0))
    if idf is not None and len(data):
        data *= idf.dense[counts.indices]
    rows = _row_of_entry(counts)
    norms = np.sqrt(np.bincount(rows, data * data, minlength=counts.shape[0]))
    if len(data):
        data /= np.maximum(norms[rows], 1e-12).astype(np.float32)
    return sp.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)


@dataclass(frozen=True, eq=False)
class Profile:
    """A sparse unit vector: sorted hashed-term ``indices`` and their ``values``."""

    indices: np.ndarray
    values: np.ndarray


def profile_vector(rows: sp.csr_matrix, weights: np.ndarray, idf: Idf | None) -> Profile:
    """The resident's taste as one unit vector: the weighted sum of the TF-IDF rows they
    engaged with (empty without history)."""
    weights = np.asarray(weights, dtype=np.float32)
    if rows.shape[0] == 0 or not np.any(weights > 0):
        return Profile(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    units = tfidf(rows, idf)
    terms, where = np.unique(units.indices, return_inverse=True)
    values = np.bincount(where, units.data * weights[_row_of_entry(units)], minlength=len(terms))
    norm = float(np.sqrt(np.dot(values, values)))
    return Profile(terms, values / norm if norm > 0 else values)


def cosine_to(vectors: sp.csr_matrix, unit: Profile) -> np.ndarray:
    """Cosine of each L2-normalised row of ``vectors`` with the unit ``Profile``."""
    if len(unit.indices) == 0 or vectors.nnz == 0:
        return np.zeros(vectors.shape[0])
    pos = np.minimum(np.searchsorted(unit.indices, vectors.indices), len(unit.indices) - 1)
    weights = np.where(unit.indices[pos] == vectors.indices, unit.values[pos], 0.0)
    return np.bincount(_row_of_entry(vectors), vectors.data * weights, minlength=vectors.shape[0])


def max_cosine(vectors: sp.csr_matrix, others: sp.csr_matrix) -> np.ndarray:
    """For each row of ``vectors``, its largest cosine with any row of ``others`` (0 if none)."""
    if vectors.shape[0] == 0 or others.shape[0] == 0 or others.nnz == 0:
        return np.zeros(vectors.shape[0])
    similarity = (vectors @ others.T).toarray()
    return np.asarray(similarity.max(axis=1)).ravel().astype(np.float64)
