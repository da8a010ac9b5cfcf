"""Staff admin of interop: import sources ("Sources") and DiaLog links.

Sources: configuration, last run, counts and errors.

A source whose last run failed is named in a warning above the admin index (like the late
sends alarm) and on the sources list, with the error (the feature and the schema rule).
DiaLog links: the client secret is write-only (encrypted, never shown back). The works'
"Diffusion" panel is ``apps.interop.diffusion``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.models import Organization
from apps.interop import diffusion  # noqa: F401  (registers the works' "Diffusion" panel)
from apps.interop.dialog.services import dialog_link_save
from apps.interop.models import DialogLink, Source
from apps.interop.openagenda.admin import agendas_visible, exports_failing
from apps.interop.source_admin import SourceRunAdminMixin, sources_visible
from apps.interop.sources.services import SourceError, source_run

INDEX_TEMPLATE = "admin/interop/index.html"


def _visible(user: Any) -> QuerySet[Source]:
    return sources_visible(Source, user)


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
class SourceAdmin(SourceRunAdminMixin, admin.ModelAdmin):
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
    run_error = SourceError

    def run_source(self, source: Source) -> Any:
        return source_run(source=source)

    def run_done_message(self, n: int) -> str:
        return ngettext("%(n)d source importée.", "%(n)d sources importées.", n) % {"n": n}


class DialogLinkForm(forms.ModelForm):
    """The secret is write-only: never rendered back; left empty, the stored one is kept."""

    client_secret = forms.CharField(
        label=_("secret client (X-Client-Secret)"),
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Fourni par l'équipe DiaLog. Il est chiffré et n'est jamais réaffiché : "
            "laissez vide pour garder le secret enregistré."
        ),
    )

    class Meta:
        model = DialogLink
        fields = ["organization", "client_id", "identifier_prefix", "enabled"]

    def clean_identifier_prefix(self) -> str:
        value: str = self.cleaned_data["identifier_prefix"]
        if not value or not all(c.isalnum() or c in "-_" for c in value):
            raise forms.ValidationError(_("Lettres, chiffres, « - » et « _ » seulement."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not data.get("client_secret"):
            self.add_error("client_secret", _("Le secret client est obligatoire."))
        return data


@admin.register(DialogLink)
class DialogLinkAdmin(admin.ModelAdmin):
    form = DialogLinkForm
    list_display = ["organization", "client_id", "identifier_prefix", "enabled", "updated_at"]
    list_filter = ["enabled"]
    fields = ["organization", "client_id", "client_secret", "identifier_prefix", "enabled"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DialogLink]:
        queryset = super().get_queryset(request).select_related("organization")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(organization__memberships__user=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["organization"] if obj is not None and obj.pk else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization" and not request.user.is_superuser:
            kwargs["queryset"] = Organization.objects.editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: DialogLink, form: Any, change: bool) -> None:
        saved = dialog_link_save(
            organization=form.cleaned_data.get("organization") or obj.organization,
            client_id=form.cleaned_data["client_id"],
            client_secret=form.cleaned_data.get("client_secret") or None,
            identifier_prefix=form.cleaned_data["identifier_prefix"],
            enabled=form.cleaned_data["enabled"],
        )
        obj.pk = saved.pk


# The index shows the banner below the notifications' one (the template extends theirs).
admin.site.index_template = INDEX_TEMPLATE
