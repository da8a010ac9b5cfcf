"""Staff admin of import sources ("Sources"): configuration, last run, counts and errors.

A source whose last run failed is named in a warning above the admin index (like the late
sends alarm) and on the sources list, with the error (the feature and the schema rule).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.interop.models import Source
from apps.interop.openagenda.admin import agendas_visible, exports_failing
from apps.interop.sources.services import SourceError, source_run

INDEX_TEMPLATE = "admin/interop/index.html"


def _visible(user: Any) -> QuerySet[Source]:
    if user.is_superuser:
        return Source.objects.all()
    return Source.objects.filter(organization__memberships__user=user)


def source_warnings(request: HttpRequest | None) -> dict[str, Any]:
    """The banner's context: the sources the user may see whose last run failed."""
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.has_perm("interop.view_source"):
        return {}
    context: dict[str, Any] = {"failing": list(_visible(user).exclude(last_error="")[:10])}
    if user.has_perm("interop.view_agendasource"):
        context["failing_agendas"] = list(agendas_visible(user).exclude(last_error="")[:10])
    if user.has_perm("interop.view_agendaexport"):
        context["failing_exports"] = list(exports_failing(user)[:10])
    return context


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "format",
        "organization",
        "enabled",
        "last_run_at",
        "created_count",
        "updated_count",
        "unchanged_count",
        "withdrawn_count",
        "error_short",
    ]
    list_filter = ["format", "enabled", "organization"]
    search_fields = ["name", "url"]
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
        (None, {"fields": ["name", "format", "url", "file", "enabled"]}),
        (_("Attribution"), {"fields": ["organization", "category", "notify"]}),
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        return _visible(request.user).select_related("organization")

    @admin.display(description=_("erreur"))
    def error_short(self, obj: Source) -> str:
        return obj.last_error[:120]

    @admin.action(description=_("Importer maintenant"), permissions=["change"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        done = 0
        for source in queryset:
            try:
                source_run(source=source)
                done += 1
            except SourceError as exc:
                self.message_user(request, f"{source.name} : {exc}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(n)d source importée.", "%(n)d sources importées.", done) % {"n": done},
                messages.SUCCESS,
            )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        for source in _visible(request.user).exclude(last_error=""):
            self.message_user(
                request, f"{source.name} : {source.last_error[:300]}", messages.WARNING
            )
        return super().changelist_view(request, extra_context)


# The index shows the banner below the notifications' one (the template extends theirs).
admin.site.index_template = INDEX_TEMPLATE
