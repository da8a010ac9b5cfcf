"""The DiaLog client secrets, encrypted at rest with a key derived from ``SECRET_KEY``.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``); the key of each of ``SECRET_KEY``
and ``SECRET_KEY_FALLBACKS`` decrypts, the current one encrypts, so that a key rotation keeps
the stored secrets readable until they are saved again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

_CONTEXT = b"quartier.interop.dialog.secret:"


class SecretUnreadableError(Exception):
    """The stored secret was encrypted with a key no longer configured."""


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(_CONTEXT + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _keys() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(key) for key in keys])


def secret_encrypt(clear: str) -> str:
    return _keys().encrypt(clear.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadableError(
            _(
                "Le secret DiaLog ne se déchiffre plus (SECRET_KEY changée) : "
                "saisissez-le à nouveau."
            )
        ) from exc
