"""Staff admin of OpenAgenda agendas: configuration, last run, counts and errors, run now."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.interop.openagenda.export import exports_enqueue
from apps.interop.openagenda.models import AgendaExport, AgendaItem, AgendaSource
from apps.interop.openagenda.sync import AgendaError, agenda_run
from apps.interop.source_admin import SourceRunAdminMixin, sources_visible


class KeyInput(forms.PasswordInput):
    """The API key is a secret: typed, kept when left empty, never shown back."""

    def __init__(self) -> None:
        super().__init__(render_value=False)


class AgendaSourceForm(forms.ModelForm):
    class Meta:
        model = AgendaSource
        fields = [
            "name",
            "agenda_uid",
            "key",
            "base_url",
            "enabled",
            "organization",
            "category",
            "moderated",
            "notify",
            "export_enabled",
            "export_location_uid",
        ]
        widgets = {"key": KeyInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].required = False
            self.fields["key"].help_text = _("Laisser vide pour garder la clé enregistrée.")

    def clean_key(self) -> str:
        key: str = self.cleaned_data.get("key") or ""
        return key or (self.instance.key if self.instance.pk else key)


def exports_failing(user: Any) -> QuerySet[AgendaExport]:
    """Failed OpenAgenda exports of the user's organisations (the admin warning)."""
    failed = AgendaExport.objects.filter(state=AgendaExport.State.FAILED).select_related("event")
    if user.is_superuser:
        return failed
    return failed.filter(source__organization__memberships__user=user)


def agendas_visible(user: Any) -> QuerySet[AgendaSource]:
    return sources_visible(AgendaSource, user)


@admin.register(AgendaSource)
class AgendaSourceAdmin(SourceRunAdminMixin, admin.ModelAdmin):
    form = AgendaSourceForm
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
        (_("Envoi vers OpenAgenda"), {"fields": ["export_enabled", "export_location_uid"]}),
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
    run_error = AgendaError

    def run_source(self, source: AgendaSource) -> Any:
        return agenda_run(source=source)

    def run_done_message(self, n: int) -> str:
        return ngettext("%(n)d agenda importé.", "%(n)d agendas importés.", n) % {"n": n}


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


@admin.register(AgendaExport)
class AgendaExportAdmin(admin.ModelAdmin):
    """The export outbox: what was sent to OpenAgenda, what waits, what failed and why."""

    list_display = ["title", "source", "operation", "state", "attempts", "sent_at", "error_short"]
    list_filter = ["state", "operation", "source"]
    search_fields = ["title", "ext_id"]
    readonly_fields = [
        "source",
        "ext_id",
        "event",
        "title",
        "operation",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "event_uid",
        "sent_at",
    ]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgendaExport]:
        queryset = super().get_queryset(request).select_related("source", "event")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(source__organization__memberships__user=request.user)

    @admin.display(description=_("erreur"))
    def error_short(self, obj: AgendaExport) -> str:
        return obj.last_error[:120]

    @admin.action(description=_("Réessayer l'envoi"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[AgendaExport]) -> None:
        ids = list(queryset.exclude(state=AgendaExport.State.DONE).values_list("pk", flat=True))
        AgendaExport.objects.filter(pk__in=ids).update(
            state=AgendaExport.State.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        exports_enqueue(ids=ids)
        self.message_user(
            request,
            ngettext("%(n)d envoi relancé.", "%(n)d envois relancés.", len(ids)) % {"n": len(ids)},
            messages.SUCCESS,
        )
