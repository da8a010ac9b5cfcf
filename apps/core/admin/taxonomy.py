"""Admin of the taxonomy: organizations (with their members), areas (on a map), categories.

Superusers edit them (or staff given Django's model permissions); members of an organization
may view areas and categories, and their own organizations with their fellow members.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdminMixin
from modeltranslation.admin import TabbedTranslationAdmin

from apps.core.admin.forms import URL_OVERRIDES, GeometryCheckedForm
from apps.core.admin.permissions import MembersMayViewMixin, is_editor, organization_ids
from apps.core.admin.saving import ServiceSaveMixin
from apps.core.audit.admin import AuditExportAdminMixin, AuditHistoryMixin
from apps.core.models import Area, Category, Membership, Organization
from apps.core.services import area_save


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role")
    autocomplete_fields = ("user",)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        mine = obj is not None and obj.pk in organization_ids(request.user)
        return mine or super().has_view_permission(request, obj)


@admin.register(Organization)
class OrganizationAdmin(AuditExportAdminMixin, AuditHistoryMixin):
    formfield_overrides = URL_OVERRIDES
    list_display = ("name", "slug", "kind", "members_count")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "kind", "website", "email", "phone")
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request).annotate(members_total=Count("memberships"))
        if request.user.is_superuser or super().has_view_permission(request):
            return queryset
        return queryset.filter(pk__in=organization_ids(request.user))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    @admin.display(description=_("membres"), ordering="members_total")
    def members_count(self, obj: Organization) -> int:
        return obj.members_total  # type: ignore[attr-defined]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_editor(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if super().has_view_permission(request, obj):
            return True
        mine = organization_ids(request.user) if is_editor(request.user) else frozenset()
        return bool(mine) and (obj is None or obj.pk in mine)


class AreaForm(GeometryCheckedForm):
    pass


@admin.register(Area)
class AreaAdmin(
    AuditHistoryMixin, MembersMayViewMixin, ServiceSaveMixin, LeafletGeoAdminMixin, admin.ModelAdmin
):
    form = AreaForm
    change_form_template = "admin/quartier/map_change_form.html"
    list_display = ("name", "kind", "code", "parent")
    list_filter = ("kind",)
    list_select_related = ("parent",)
    search_fields = ("name", "slug", "code")
    prepopulated_fields = {"slug": ("name",)}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["name", "slug", "kind", "code", "parent", "geometry"]
        if obj is not None and not self.has_change_permission(request, obj):
            # View-only: the outline's size, not thousands of coordinates.
            fields[-1] = "outline"
        return fields

    @admin.display(description=_("contour"))
    def outline(self, obj: Area) -> str:
        return _("%(count)d polygone(s), %(points)d points") % {
            "count": len(obj.geometry),
            "points": obj.geometry.num_points,
        }

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("outline",)

    def save_with_service(
        self, request: HttpRequest, obj: Any, form: Any, formsets: Any, change: bool
    ) -> None:
        area_save(area=obj)


@admin.register(Category)
class CategoryAdmin(AuditHistoryMixin, MembersMayViewMixin, TabbedTranslationAdmin):
    list_display = ("name", "slug", "colour", "icon", "position")
    search_fields = ("name_fr", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_fr",)}
    fields = ("name", "slug", "colour", "icon", "position")
