"""Staff admin of OpenAgenda agendas: configuration, last run, counts and errors, run now."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.interop.openagenda.models import AgendaItem, AgendaSource
from apps.interop.openagenda.sync import AgendaError, agenda_run


def agendas_visible(user: Any) -> QuerySet[AgendaSource]:
    if user.is_superuser:
        return AgendaSource.objects.all()
    return AgendaSource.objects.filter(organization__memberships__user=user)


@admin.register(AgendaSource)
class AgendaSourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "agenda_uid",
        "organization",
        "moderated",
        "enabled",
        "last_run_at",
        "created_count",
        "updated_count",
        "unchanged_count",
        "withdrawn_count",
        "error_short",
    ]
    list_filter = ["enabled", "moderated", "organization"]
    search_fields = ["name", "agenda_uid"]
    readonly_fields = [
        "last_run_at",
        "last_success_at",
        "created_count",
        "updated_count",
        "unchanged_count",
        "withdrawn_count",
        "last_error",
    ]
    fieldsets = (
        (None, {"fields": ["name", "agenda_uid", "key", "base_url", "enabled"]}),
        (_("Attribution"), {"fields": ["organization", "category", "moderated", "notify"]}),
        (
            _("Dernière exécution"),
            {
                "fields": [
                    ("last_run_at", "last_success_at"),
                    ("created_count", "updated_count", "unchanged_count", "withdrawn_count"),
                    "last_error",
                ]
            },
        ),
    )
    actions = ["run_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgendaSource]:
        return agendas_visible(request.user).select_related("organization")

    @admin.display(description=_("erreur"))
    def error_short(self, obj: AgendaSource) -> str:
        return obj.last_error[:120]

    @admin.action(description=_("Importer maintenant"), permissions=["change"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[AgendaSource]) -> None:
        done = 0
        for source in queryset:
            try:
                agenda_run(source=source)
                done += 1
            except AgendaError as exc:
                self.message_user(request, f"{source.name} : {exc}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(n)d agenda importé.", "%(n)d agendas importés.", done) % {"n": done},
                messages.SUCCESS,
            )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        for source in agendas_visible(request.user).exclude(last_error=""):
            self.message_user(
                request, f"{source.name} : {source.last_error[:300]}", messages.WARNING
            )
        return super().changelist_view(request, extra_context)


@admin.register(AgendaItem)
class AgendaItemAdmin(admin.ModelAdmin):
    """Read-only: what each imported event came from (keywords, image, page on OpenAgenda)."""

    list_display = ["event", "source", "event_uid", "source_url"]
    list_filter = ["source"]
    search_fields = ["event__title", "event_uid"]
    readonly_fields = ["source", "event_uid", "event", "keywords", "image_url", "source_url"]
    exclude = ["fingerprint"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
