"""Staff sign-in policy: who must use a second factor, session lifetime, the client address.

- **Second factor** (django-otp, TOTP): required for superusers and for everyone who can send
  a push — editors (any member of an organization may publish with ``notify``) and holders of
  ``notifications.send_test_push``; optional for other staff, who may enrol themselves. A
  signed-in user who must verify and has not is kept on the verification (or enrolment) page:
  every other admin page redirects there, and elsewhere (the API's session authentication)
  the session counts as anonymous.
- **Session lifetime**: a staff session ends ``STAFF_SESSION_MAX_AGE`` after sign-in whatever
  happens, and after ``STAFF_SESSION_IDLE`` without a request.
- **Client address** for django-axes' lock-out: the address the configured proxies report
  (``API_NUM_PROXIES`` hops from the right of ``X-Forwarded-For``), as the API's throttles read
  it; ``REMOTE_ADDR`` without a proxy, so the header cannot be forged.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device
from rest_framework.settings import api_settings

from apps.core.admin.permissions import is_editor

#: Django's permission to send a test push (apps.notifications.admin.access).
TEST_PUSH_PERMISSION = "notifications.send_test_push"
AUTH_AT = "quartier_auth_at"
SEEN_AT = "quartier_seen_at"
#: The idle clock is written to the session at most this often (seconds), not at each request.
SEEN_RESOLUTION_S = 60


def mfa_required(user: Any) -> bool:
    """Must ``user`` sign in with a second factor? (Anyone who can notify residents.)"""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or is_editor(user) or user.has_perm(TEST_PUSH_PERMISSION))


def mfa_pending(user: Any) -> bool:
    """Signed in with a password, but a second factor is still owed."""
    if not user.is_authenticated or user.is_verified():
        return False
    return mfa_required(user) or user_has_device(user, confirmed=True)


def staff_client_ip(request: HttpRequest) -> str | None:
    """The client's address for django-axes, from the trusted proxies only (module doc)."""
    remote = request.META.get("REMOTE_ADDR")
    hops = api_settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        candidate = addresses[-min(hops, len(addresses))]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote  # a proxy wrote something that is no address: not trusted
    return remote


@receiver(user_logged_in, dispatch_uid="core.staff_session_start")
def _session_start(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[AUTH_AT] = request.session[SEEN_AT] = now


def _session_expired(request: HttpRequest) -> bool:
    """Check the absolute and idle limits; refresh the idle clock (coarsely) if still valid."""
    session = request.session
    now = int(time.time())
    auth_at = session.setdefault(AUTH_AT, now)
    seen_at = session.setdefault(SEEN_AT, now)
    if now - auth_at > settings.STAFF_SESSION_MAX_AGE_S:
        return True
    if now - seen_at > settings.STAFF_SESSION_IDLE_S:
        return True
    if now - seen_at >= SEEN_RESOLUTION_S:
        session[SEEN_AT] = now
    return False


class StaffAccessMiddleware:
    """Ends expired staff sessions and holds unverified ones at the second-factor step.

    Sits after django-otp's ``OTPMiddleware`` (which sets ``user.is_verified()``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            admin_root = reverse("admin:index")
            in_admin = request.path_info.startswith(admin_root)
            if _session_expired(request):
                logout(request)
                if in_admin:
                    return redirect(
                        f"{reverse('admin:login')}?{urlencode({'next': request.get_full_path()})}"
                    )
            elif mfa_pending(user):
                if in_admin and request.path_info not in _open_paths():
                    step = "enrol" if not user_has_device(user, confirmed=True) else "verify"
                    query = urlencode({"next": request.get_full_path()})
                    return redirect(f"{reverse(f'staff_mfa_{step}')}?{query}")
                if not in_admin:
                    # The API's session authentication: a password alone proves nothing.
                    request.user = AnonymousUser()
        return self.get_response(request)


def _open_paths() -> frozenset[str]:
    """Admin pages a user owing a second factor may still open."""
    return frozenset(
        reverse(name)
        for name in (
            "staff_mfa_verify",
            "staff_mfa_enrol",
            "admin:login",
            "admin:logout",
            "admin:jsi18n",
        )
    )
