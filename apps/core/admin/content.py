"""The admin base of every content type: scoped to the editor's organizations, saved through
services, lifecycle actions, the map widget, fr/en tabs, filters and search.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdminMixin
from modeltranslation.admin import TabbedTranslationAdmin

from apps.core.admin.approvals import ApprovalAdminMixin, approval_context
from apps.core.admin.forms import URL_OVERRIDES, GeometryCheckedForm
from apps.core.admin.lifecycle import LifecycleMixin
from apps.core.admin.lists import FittingListMixin, short_datetime
from apps.core.admin.panels import change_form_panels
from apps.core.admin.permissions import OrganizationScopedMixin
from apps.core.admin.saving import ServiceSaveMixin, changed_values
from apps.core.services import CONTENT_FIELDS, content_apply, content_delete


def text_fieldset() -> Any:
    return (_("Texte"), {"fields": ["title", "summary", "body"]})


def classification_fieldset() -> Any:
    return (
        _("Classement"),
        {"fields": ["organization", "category", "urgency", "notify", "exercise"]},
    )


def publication_fieldset() -> Any:
    return (
        _("Publication"),
        {
            "fields": ["status", "publish_at", "published_at", "expires_at"],
            "description": _(
                "Le statut change par les boutons en bas de page ou les actions de la liste "
                "(publier, programmer, archiver, repasser en brouillon)."
            ),
        },
    )


def image_fieldset() -> Any:
    return (
        _("Image"),
        {"fields": ["image", "image_alt", "image_credit"], "classes": ["collapse"]},
    )


class ContentForm(GeometryCheckedForm):
    """The base form of content: geometry checked on input."""


class ContentAdmin(
    FittingListMixin,
    OrganizationScopedMixin,
    ServiceSaveMixin,
    ApprovalAdminMixin,
    LifecycleMixin,
    LeafletGeoAdminMixin,
    TabbedTranslationAdmin,
):
    """Base ModelAdmin of news, roadworks and events.

    Subclasses set ``fieldsets`` and, when the type has its own save service or inlines the
    service must see, override ``save_with_service``. The change form shows registered
    panels (``apps.core.admin.panels``) and the lifecycle buttons.
    """

    form = ContentForm
    formfield_overrides = URL_OVERRIDES
    change_form_template = "admin/quartier/content/change_form.html"
    list_display = [
        "title",
        "status",
        "urgency",
        "publish_at_short",
        "organization",
        "category",
        "areas_list",
    ]
    list_filter = [
        "status",
        "urgency",
        ("organization", admin.RelatedOnlyFieldListFilter),
        "category",
        ("publish_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["organization", "category"]
    search_fields = ["title_fr", "title_en", "summary_fr", "summary_en"]
    date_hierarchy = "publish_at"
    readonly_fields = [
        "status",
        "publish_at",
        "published_at",
        "areas_list",
        "created_at",
        "updated_at",
    ]
    actions = ["publish_selected", "schedule_selected", "archive_selected", "unpublish_selected"]
    list_per_page = 50
    publish_at_short = short_datetime("publish_at", _("publication le"))

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("areas")

    @admin.display(description=_("zones"))
    def areas_list(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return ", ".join(area.name for area in obj.areas.all()) or "—"

    # --- writes go through services -------------------------------------------------------
    def save_with_service(
        self, request: HttpRequest, obj: Any, form: Any, formsets: Any, change: bool
    ) -> None:
        content_apply(
            item=obj,
            data=changed_values(form, CONTENT_FIELDS),
            user=request.user,
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        content_delete(item=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for item in queryset:
            content_delete(item=item, user=request.user)

    # --- change form ----------------------------------------------------------------------
    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        context["lifecycle_buttons"] = self.lifecycle_buttons(request, obj)
        context.update(approval_context(request, obj))
        context["content_panels"] = self.get_change_form_panels(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_change_form_panels(self, request: HttpRequest, obj: Any) -> list[Any]:
        """HTML panels under the fields (the reach preview hook); extend or register panels."""
        return change_form_panels(request, obj, self.model)
