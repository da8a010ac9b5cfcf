"""The audit trail in the staff admin: the "Historique" page of each audited object (the
changes with who, when and what, scoped like the object itself) and the CADA export view.

The history is read-only: simple-history's "revert" would write around our services, so the
record pages answer only GET and the revert button is hidden (``SIMPLE_HISTORY_REVERT_DISABLED``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelDelta

from apps.core.admin.permissions import is_editor, organization_ids
from apps.core.audit import export
from apps.core.audit.trail import (
    EXPORT_MAX_RECORDS,
    TrailFilter,
    content_by_code,
    records_count,
    trail_rows,
    translated_originals,
)
from apps.core.models import Organization


class AuditHistoryMixin(SimpleHistoryAdmin):
    """ModelAdmin mixin: the "Historique" button lists the object's changes with their diffs.

    An object outside the user's scope answers 404, as its change form does; a deleted object's
    history is shown to whoever could see it (its organization's members, superusers).
    """

    object_history_list_template = "admin/quartier/audit/object_history_list.html"
    history_list_per_page = 50

    def history_visible(self, request: HttpRequest, object_id: str) -> Any:
        """The object (or, deleted, its last recorded state) if ``request.user`` may see it."""
        obj = self.get_queryset(request).filter(pk=object_id).first()
        if obj is not None:
            return obj
        history = self.model.history.model
        last = history.objects.filter(id=object_id).order_by("-history_id").first()
        if last is None:
            raise Http404
        user = request.user
        if user.is_active and user.is_superuser:
            return last.instance
        org_id = last.id if self.model is Organization else getattr(last, "organization_id", None)
        if org_id is None or org_id not in organization_ids(user):
            raise Http404
        return last.instance

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None):
        self.history_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ):
        if request.method != "GET":
            raise PermissionDenied  # read-only: no revert around the services
        self.history_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def history_view_title(self, request: HttpRequest, obj: Any) -> str:
        return _("Historique : %(object)s") % {"object": obj}

    def history_form_view_title(self, request: HttpRequest, obj: Any) -> str:
        return _("Version enregistrée : %(object)s") % {"object": obj}

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        """Each record's changes against the one before (fr/en columns, not the bare one)."""
        # Device counts stay off this page: they are shown rounded and masked elsewhere.
        hidden = [
            *translated_originals(self.model),
            *getattr(self.model, "audit_masked_counts", ()),
        ]
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current, excluded_fields=hidden, foreign_keys_are_objs=foreign_keys_are_objs
                )
                # An empty text that was NULL before ("None → ") is not a change.
                changes = [c for c in delta.changes if not _both_empty(c.old, c.new)]
                delta = ModelDelta(
                    changes=changes,
                    changed_fields=[c.field for c in changes],
                    old_record=delta.old_record,
                    new_record=delta.new_record,
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current


def _both_empty(old: Any, new: Any) -> bool:
    return old in (None, "") and new in (None, "")


FORMATS = [("csv", "CSV"), ("json", "JSON")]


class AuditExportForm(forms.Form):
    """What to export: a period, and an organization or an item (``TrailFilter``)."""

    since = forms.DateField(
        label=gettext_lazy("Du"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("Au (inclus)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    organization = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"), queryset=Organization.objects.none(), required=False
    )
    item_type = forms.ChoiceField(label=gettext_lazy("Type de contenu"), required=False)
    item_id = forms.IntegerField(
        label=gettext_lazy("Numéro du contenu"), required=False, min_value=1, max_value=2**62
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"), choices=FORMATS, initial="csv", required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        organization = self.fields["organization"]
        assert isinstance(organization, forms.ModelChoiceField)
        organization.queryset = Organization.objects.editable_by(user)
        organization.required = not user.is_superuser
        mine = organization_ids(user)
        if not user.is_superuser and len(mine) == 1:
            organization.initial = next(iter(mine))
        item_type = self.fields["item_type"]
        assert isinstance(item_type, forms.ChoiceField)
        item_type.choices = [("", "—")] + [
            (code, str(model._meta.verbose_name)) for code, model in content_by_code().items()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        organization = data.get("organization")
        item_type = data.get("item_type") or None
        item_id = data.get("item_id")
        since = timezone.make_aware(datetime.combine(data["since"], time.min))
        until = timezone.make_aware(datetime.combine(data["until"], time.min)) + timedelta(days=1)
        if item_type is not None and item_id is not None and not self.user.is_superuser:
            model = content_by_code()[item_type]
            org_ids = set(
                model.history.model.objects.filter(id=item_id)  # type: ignore[attr-defined]
                .values_list("organization_id", flat=True)
                .distinct()
            )
            if not org_ids or not org_ids <= set(organization_ids(self.user)):
                raise ValidationError(_("Ce contenu n'appartient pas à vos organisations."))
        flt = TrailFilter(
            since=since,
            until=until,
            organization_id=organization.pk if organization is not None else None,
            item_type=item_type,
            item_id=item_id,
        )
        flt.check()
        count = records_count(flt)
        if count > EXPORT_MAX_RECORDS:
            raise ValidationError(
                _(
                    "%(count)d modifications : l'export en contient au plus %(max)d. "
                    "Réduisez la période."
                )
                % {"count": count, "max": EXPORT_MAX_RECORDS}
            )
        data["filter"] = flt
        return data


def can_export(user: Any) -> bool:
    return bool(user.is_active and (user.is_superuser or is_editor(user)))


class AuditExportAdminMixin:
    """ModelAdmin mixin (organizations): the CADA export view, ``…/audit-export/``."""

    def get_urls(self) -> list[URLPattern]:
        urls: list[URLPattern] = super().get_urls()  # type: ignore[misc]
        view = self.admin_site.admin_view(self.audit_export_view)  # type: ignore[attr-defined]
        return [path("audit-export/", view, name="core_audit_export"), *urls]

    def audit_export_view(self, request: HttpRequest) -> HttpResponseBase:
        if not can_export(request.user):
            raise PermissionDenied
        form = AuditExportForm(request.GET or None, user=request.user)
        if request.GET and form.is_valid():
            flt = form.cleaned_data["filter"]
            fmt = form.cleaned_data["format"] or "csv"
            rows = trail_rows(flt)
            stamp = f"{flt.since:%Y%m%d}-{flt.until:%Y%m%d}"
            if fmt == "json":
                response = StreamingHttpResponse(
                    export.json_lines(rows), content_type="application/json; charset=utf-8"
                )
            else:
                response = StreamingHttpResponse(
                    export.csv_lines(rows), content_type="text/csv; charset=utf-8"
                )
            response["Content-Disposition"] = f'attachment; filename="historique-{stamp}.{fmt}"'
            response["Cache-Control"] = "no-store"
            return response
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("Exporter l'historique des modifications (CADA)"),
            "opts": Organization._meta,
            "form": form,
            "max_records": EXPORT_MAX_RECORDS,
        }
        status = 400 if request.GET else 200
        return TemplateResponse(request, "admin/quartier/audit/export.html", context, status=status)
