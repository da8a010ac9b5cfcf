"""Who may publish: organization API keys and staff members of the item's organization."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from apps.core.models import Organization, OrganizationApiKey


def publishing_organizations(request: Request) -> QuerySet[Organization]:
    """The organizations whose content the caller may create, edit and delete."""
    if isinstance(request.auth, OrganizationApiKey):
        return Organization.objects.filter(pk=request.auth.organization_id)
    user = request.user
    if user is None or not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    return Organization.objects.editable_by(user)


def acting_user(request: Request) -> Any:
    """The person behind a write (``None`` for an API key), for ``created_by`` and logs."""
    user = request.user
    return user if user is not None and user.is_authenticated else None


class CanPublishContent(permissions.BasePermission):
    """Reads are public; writes need an API key or a staff member of some organization.

    Unauthenticated writes are 401 (the view's first authenticator names ``Api-Key``);
    authenticated callers without the item's organization get 403.
    """

    #: Read operations need no credentials (the OpenAPI schema marks auth as optional).
    public_reads = True

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(request.auth, OrganizationApiKey):
            return True
        user = request.user
        if user is None or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if not (user.is_superuser or (user.is_staff and user.memberships.exists())):
            raise exceptions.PermissionDenied(_("Vous ne publiez pour aucune organisation."))
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(request.auth, OrganizationApiKey):
            allowed = obj.organization_id == request.auth.organization_id
        else:
            allowed = (
                request.user.is_superuser
                or publishing_organizations(request).filter(pk=obj.organization_id).exists()
            )
        if not allowed:
            raise exceptions.PermissionDenied(_("Ce contenu appartient à une autre organisation."))
        return True
