"""Who may do what in the staff admin: superusers everything, editors their organizations' content.

Rights on content come from ``Membership``, not from Django's permission table: an active staff
user who belongs to an organization may view, add, change, delete, publish, schedule, archive
and cancel the news, roadworks and events *of that organization*, and nothing of the others
(other organizations' items answer 404, as if they did not exist). Both membership roles have
the same rights here. Taxonomy (organizations, areas, categories) is edited by superusers (or
users given Django's model permissions); members may view it. Superusers see everything.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from apps.core.models import Membership, Organization

_CACHE_ATTR = "_quartier_organization_ids"


def organization_ids(user: Any) -> frozenset[int]:
    """Ids of the organizations ``user`` belongs to (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(user=user).values_list("organization_id", flat=True)
        )
        setattr(user, _CACHE_ATTR, cached)
    return cached


def is_editor(user: Any) -> bool:
    """An active staff member of at least one organization."""
    return bool(user.is_active and user.is_staff and organization_ids(user))


def can_edit(user: Any, obj: Any = None) -> bool:
    """May ``user`` edit content (of ``obj``'s organization, when given)?"""
    if user.is_active and user.is_superuser:
        return True
    if not is_editor(user):
        return False
    return obj is None or obj.organization_id in organization_ids(user)


def scope(queryset: QuerySet, user: Any, field: str = "organization") -> QuerySet:
    """Keep the rows of ``user``'s organizations (all rows for superusers)."""
    if user.is_active and user.is_superuser:
        return queryset
    return queryset.filter(**{f"{field}__in": organization_ids(user)})


class OrganizationScopedMixin:
    """ModelAdmin mixin for models with an ``organization``: rights from membership.

    The queryset, every object view and the organization choice on the form are limited to
    the user's organizations; an object outside them answers 404 (never a redirect that would
    confirm it exists).
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope(super().get_queryset(request), request.user)  # type: ignore[misc]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise Http404
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_edit(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "organization":
            kwargs["queryset"] = Organization.objects.editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)  # type: ignore[misc]
        mine = organization_ids(request.user)
        if len(mine) == 1 and "organization" not in initial:
            initial["organization"] = next(iter(mine))
        return initial


class ScopedInlineMixin:
    """Inline mixin: the rows of an item follow the rights on the item (``obj`` is the parent)."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user, obj)


class MembersMayViewMixin:
    """ModelAdmin mixin for shared reference data: members view it, Django permissions edit it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_editor(request.user) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_editor(request.user) or super().has_view_permission(request, obj)  # type: ignore[misc]


class ReadOnlyMixin:
    """ModelAdmin mixin for records nobody adds, changes or deletes in the admin (registers,
    counters, decisions taken elsewhere): viewing stays the admin's own rule."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
