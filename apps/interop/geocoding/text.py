"""Text matching of the built-in geocoder: accents, case and punctuation folded (pure)."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")
#: A house number at the start of an address: "12", "12 bis", "12b".
_NUMBER = re.compile(r"^\s*(\d{1,5})\s*(?:bis|ter|quater|[a-d])?\b[\s,]*", re.IGNORECASE)


def normalise(text: str) -> str:
    """``"Rue de la République"`` → ``"rue de la republique"``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NOT_WORD.sub(" ", folded).strip()


_ACCENTED = {
    "a": "aàâä",
    "c": "cç",
    "e": "eéèêë",
    "i": "iîï",
    "o": "oôö",
    "u": "uùûü",
    "y": "yÿ",
}


def accent_regex(word: str) -> str:
    """A case-insensitive SQL regex matching ``word`` whatever its accents (``"republique"``
    matches ``"République"``): for ``__iregex`` lookups on columns we cannot normalise."""
    parts = []
    for char in normalise(word).replace(" ", ""):
        parts.append(f"[{_ACCENTED[char]}]" if char in _ACCENTED else re.escape(char))
    return "".join(parts)


def split_number(text: str) -> tuple[str, str]:
    """The leading house number (or ``""``) and the rest of an address."""
    match = _NUMBER.match(text)
    if not match:
        return "", text
    return match.group(1), text[match.end() :]


def score(query: str, name: str) -> float:
    """How well a normalised ``name`` matches a normalised ``query``, 0 (no match) to 1.

    Every word of the query must start a word of the name (``"rep"`` finds ``"republique"``);
    then a name that is the whole query scores 1, a longer one less.
    """
    words, names = query.split(), name.split()
    if not words:
        return 0.0
    for word in words:
        if not any(n.startswith(word) for n in names):
            return 0.0
    if query == name:
        return 1.0
    return round(0.5 + 0.4 * len(query) / max(len(name), 1), 3)
