"""Authentication of publishers: ``Authorization: Api-Key <key>`` (organization API keys).

A valid key authenticates the request as ``AnonymousUser`` with ``request.auth`` set to the
``OrganizationApiKey``: the key is not a person, and the publishing permission reads the
organization from it. A malformed, unknown or revoked key is a 401, never a silent anonymous
request. Other schemes (``Bearer`` device tokens, sessions) are left to other classes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.core.models import OrganizationApiKey
from apps.core.models.api_keys import split_api_key
from apps.core.services import api_key_touch

KEYWORD = "Api-Key"


class OrganizationApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <prefix>.<secret>`` → ``(AnonymousUser, OrganizationApiKey)``."""

    def authenticate(self, request: Request) -> tuple[Any, OrganizationApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("En-tête attendu : « Authorization: Api-Key <clé> ».")
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Clé d'API invalide.")) from None
        parts = split_api_key(raw)
        if parts is None:
            raise exceptions.AuthenticationFailed(_("Clé d'API invalide."))
        key = (
            OrganizationApiKey.objects.select_related("organization")
            .filter(prefix=parts[0])
            .first()
        )
        if key is None or not key.matches(raw):
            raise exceptions.AuthenticationFailed(_("Clé d'API invalide."))
        if not key.is_active:
            raise exceptions.AuthenticationFailed(_("Cette clé d'API a été révoquée."))
        api_key_touch(key=key)
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated writes, with WWW-Authenticate.
        return KEYWORD


class OrganizationApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.api.auth.OrganizationApiKeyAuthentication"
    name = "organizationApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "Organization API key, sent as `Authorization: Api-Key <key>`. Made by "
                "`python manage.py create_api_key <organization slug>` or in the admin; "
                "publishes the content of that organization only."
            ),
        }
