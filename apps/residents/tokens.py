"""Device tokens and transfer codes: generation, normalisation and hashing (no ORM).

Device tokens are 32 random bytes (``qd_`` + URL-safe base64, 46 characters). Only their
SHA-256 is stored; a request is authenticated by looking the hash up through a unique index,
so no comparison of secrets happens in Python and no timing leak is possible. Rotating
``DJANGO_SECRET_KEY`` leaves device tokens valid.

Transfer codes are typed by a person on a new phone: 10 characters of Crockford's base32
(no I, L, O, U; ``O`` is read as ``0`` and ``I``/``L`` as ``1``), shown as ``ABCDE-FGHJK``, i.e.
50 bits. They live 15 minutes, are single-use and registration is throttled per IP, so guessing
one is hopeless. They are stored as an HMAC-SHA256 keyed with ``DJANGO_SECRET_KEY``: a stolen
database does not reveal live codes.
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils.crypto import salted_hmac

DEVICE_TOKEN_PREFIX = "qd_"
TRANSFER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRANSFER_CODE_LENGTH = 10
_TRANSFER_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def device_token_new() -> str:
    """A fresh device token, shown once to the app."""
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def device_token_hash(token: str) -> str:
    """The stored form of a device token: hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def transfer_code_new() -> str:
    """A fresh transfer code, formatted for people: ``ABCDE-FGHJK``."""
    raw = "".join(secrets.choice(TRANSFER_ALPHABET) for _ in range(TRANSFER_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def transfer_code_normalize(code: str) -> str | None:
    """The canonical form of a typed code, or ``None`` when it cannot be a code."""
    cleaned = "".join(code.split()).replace("-", "").upper().translate(_TRANSFER_ALIASES)
    if len(cleaned) != TRANSFER_CODE_LENGTH or any(c not in TRANSFER_ALPHABET for c in cleaned):
        return None
    return cleaned


def transfer_code_hash(normalized: str) -> str:
    """The stored form of a normalised transfer code (keyed HMAC-SHA256, hex)."""
    return salted_hmac(
        "quartier.residents.transfer-code", normalized, algorithm="sha256"
    ).hexdigest()
