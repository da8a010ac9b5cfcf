"""Admin for organization API keys: create (the key is shown once) and revoke.

The new key is rendered on the response to the "add" form itself, marked ``no-store``: never in
a message, whose default storage is a cookie that is signed but readable by whoever holds it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from apps.core.audit.admin import AuditHistoryMixin
from apps.core.models import Organization, OrganizationApiKey
from apps.core.services import api_key_create, api_key_revoke


@admin.register(OrganizationApiKey)
class OrganizationApiKeyAdmin(AuditHistoryMixin):
    list_display = ("name", "organization", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("organization",)
    fields = ("organization", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrganizationApiKey]:
        queryset = super().get_queryset(request).select_related("organization")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(organization__in=Organization.objects.editable_by(request.user))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:  # a key never changes organization or name after creation
            return ("organization", "name", *self.readonly_fields)
        return self.readonly_fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization":
            kwargs["queryset"] = Organization.objects.editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        key, raw = api_key_create(organization=obj.organization, name=obj.name, user=request.user)
        obj.pk = key.pk
        obj.prefix = key.prefix
        obj.raw_key = raw  # for response_add only; never stored

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        raw = getattr(obj, "raw_key", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Nouvelle clé d'API"),
            "opts": self.model._meta,
            "key": obj,
            "raw_key": raw,
        }
        response: HttpResponse = TemplateResponse(
            request, "admin/core/organizationapikey/created.html", context
        )
        add_never_cache_headers(response)  # no copy in the browser's or a proxy's cache
        return response

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: a revoked key stays on record

    @admin.action(description=_("Révoquer les clés sélectionnées"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[OrganizationApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key=key, user=request.user)
        self.message_user(request, _("%(n)d clé(s) révoquée(s).") % {"n": queryset.count()})
