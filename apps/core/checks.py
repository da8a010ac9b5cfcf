"""Production start-up checks: what Quartier refuses to start on when ``DJANGO_DEBUG`` is off.

- ``quartier.E001``: a default secret key (the built-in dev key, the ``.env.example`` value,
  Django's ``django-insecure-`` keys) or a short or repetitive one. The key signs staff
  sessions and the recommender's model files (``apps.recommend.store``): a published key is a
  forged admin session, or a pickle of anyone's loaded by the feed.
- ``quartier.E002``: no push backend. Without FCM credentials the ``log`` backend marks every
  push "sent" and nothing reaches a phone; production must set ``FCM_CREDENTIALS_FILE`` or
  choose ``PUSH_BACKEND=log`` explicitly.
- ``quartier.E003``: an unknown ``PUSH_BACKEND``, or ``fcm`` without ``FCM_CREDENTIALS_FILE``.

They are Django system checks (``manage.py check``, ``migrate`` and ``runserver`` stop on them)
and ``enforce_production_settings`` runs them where Django does not: the WSGI and ASGI entry
points (gunicorn) and the Celery worker's start (``backend.celery``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

#: Keys published in this repository (settings default, ``.env.example``): never in production.
KNOWN_KEYS = frozenset({"insecure-dev-key-change-me", "change-me-to-a-long-random-string"})
#: Django's own rule for a strong key (``security.W009``): this long, this many distinct chars.
MIN_KEY_LENGTH = 50
MIN_KEY_UNIQUE_CHARACTERS = 5
PUSH_BACKENDS = ("fcm", "log")


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is unfit for production, or None."""
    if key in KNOWN_KEYS or key.startswith("django-insecure"):
        return "DJANGO_SECRET_KEY is a published default value"
    if len(key) < MIN_KEY_LENGTH or len(set(key)) < MIN_KEY_UNIQUE_CHARACTERS:
        return (
            f"DJANGO_SECRET_KEY is too weak: {len(key)} characters, {len(set(key))} distinct "
            f"(at least {MIN_KEY_LENGTH} and {MIN_KEY_UNIQUE_CHARACTERS})"
        )
    return None


def production_errors() -> list[checks.CheckMessage]:
    """The start-up errors of the current settings (none with ``DEBUG`` on)."""
    if settings.DEBUG:
        return []
    errors: list[checks.CheckMessage] = []
    problem = secret_key_problem(settings.SECRET_KEY)
    if problem:
        errors.append(
            checks.Error(
                problem,
                hint="Generate one: python -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="quartier.E001",
            )
        )
    backend = settings.PUSH_BACKEND
    if not backend:
        errors.append(
            checks.Error(
                "No push backend: without FCM_CREDENTIALS_FILE pushes would only be logged, "
                "marked sent, and reach no phone",
                hint="Set FCM_CREDENTIALS_FILE to the Firebase service-account JSON, or "
                "PUSH_BACKEND=log explicitly for a deployment that sends no pushes.",
                id="quartier.E002",
            )
        )
    elif backend not in PUSH_BACKENDS:
        errors.append(
            checks.Error(
                f"PUSH_BACKEND must be 'fcm' or 'log', not {backend!r}", id="quartier.E003"
            )
        )
    elif backend == "fcm" and not settings.FCM_CREDENTIALS_FILE:
        errors.append(
            checks.Error("PUSH_BACKEND=fcm needs FCM_CREDENTIALS_FILE", id="quartier.E003")
        )
    return errors


@checks.register(checks.Tags.security)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return production_errors()


def enforce_production_settings() -> None:
    """Raise ``ImproperlyConfigured`` listing every start-up error (nothing with DEBUG on)."""
    errors = production_errors()
    if errors:
        lines = "\n".join(f"- {e.id}: {e.msg}." + (f" {e.hint}" if e.hint else "") for e in errors)
        raise ImproperlyConfigured(
            f"Quartier refuses to start in production (DJANGO_DEBUG off):\n{lines}"
        )
