"""Organization API keys: an organization publishes from its own systems (stored hashed).

A key reads ``<prefix>.<secret>``: the 10-character prefix finds the row, the SHA-256 of the
whole key is compared in constant time. The secret carries 256 random bits, so a fast hash is
enough (no password-style stretching needed) and the clear key is shown only once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models.history import audited

PREFIX_LENGTH = 10
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def split_api_key(raw: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else ``None``."""
    prefix, dot, secret = raw.partition(".")
    if not dot or len(prefix) != PREFIX_LENGTH or len(secret) < 32:
        return None
    return prefix, secret


def generate_api_key() -> tuple[str, str]:
    """A new random key and its prefix."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return f"{prefix}.{secrets.token_urlsafe(32)}", prefix


class OrganizationApiKeyQuerySet(models.QuerySet):
    def active(self) -> OrganizationApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class OrganizationApiKey(models.Model):
    """A secret that lets a system publish the content of one organization through the API."""

    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=_("organisation"),
    )
    name = models.CharField(
        _("nom"), max_length=100, help_text=_("Quel système l'utilise, ex. « SIG voirie ».")
    )
    prefix = models.CharField(_("préfixe"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, editable=False)
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True, editable=False)

    objects = OrganizationApiKeyQuerySet.as_manager()
    # The hash of the secret stays out of the trail; each use is not a change.
    history = audited(excluded=("hashed_key", "last_used_at"))

    class Meta:
        ordering = ["organization", "name", "id"]
        verbose_name = _("clé d'API")
        verbose_name_plural = _("clés d'API")

    def __str__(self) -> str:
        return f"{self.organization} · {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def matches(self, raw: str) -> bool:
        """Whether ``raw`` is this key (constant-time comparison of the hashes)."""
        return hmac.compare_digest(self.hashed_key, hash_api_key(raw))
