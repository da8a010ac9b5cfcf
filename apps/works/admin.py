"""Staff admin of roadworks: periods inline, traffic impact, detour; saved with ``works_apply``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.core.admin.content import (
    ContentAdmin,
    ContentForm,
    classification_fieldset,
    image_fieldset,
    publication_fieldset,
    text_fieldset,
)
from apps.core.admin.forms import LinesField
from apps.core.admin.lifecycle import Transition
from apps.core.admin.lists import short_datetime
from apps.core.admin.permissions import ScopedInlineMixin
from apps.core.admin.saving import changed_values, formset_rows
from apps.works.admin_widgets import RestrictionsField, WorksPeriodForm
from apps.works.models import Works, WorksPeriod, WorkStatus
from apps.works.services import WORKS_FIELDS, works_apply, works_cancel

CANCEL = Transition(
    "cancel",
    _("Annuler le chantier"),
    _("Enregistrer et annuler le chantier"),
    ngettext_lazy("%(count)d chantier annulé.", "%(count)d chantiers annulés.", "count"),
    lambda item, user: works_cancel(works=item, user=user),
    lambda item: item.work_status not in (WorkStatus.CANCELLED, WorkStatus.COMPLETED),
    _("Annuler ce chantier ? Les habitants concernés peuvent en être avertis."),
)


class WorksForm(ContentForm):
    geometry_fields = ("geometry", "detour_geometry")

    road_names = LinesField(
        label=_("Voies concernées"),
        required=False,
        help_text=_("Une voie par ligne, ex. « Rue de la République »."),
    )
    restrictions = RestrictionsField(
        label=_("Restrictions"),
        help_text=_(
            "Une ligne par restriction ; la valeur et l'unité seulement pour les limites de "
            "gabarit ou de poids. La vitesse se règle dans « Vitesse limitée »."
        ),
    )


class WorksPeriodInline(ScopedInlineMixin, admin.TabularInline):
    model = WorksPeriod
    form = WorksPeriodForm
    extra = 0
    fields = ("start_date", "end_date", "weekdays", "daily_start_time", "daily_end_time")


@admin.register(Works)
class WorksAdmin(ContentAdmin):
    form = WorksForm
    inlines = [WorksPeriodInline]
    transitions = (*ContentAdmin.transitions, CANCEL)
    actions = [*ContentAdmin.actions, "cancel_selected"]
    date_hierarchy = "start_at"
    start_at_short = short_datetime("start_at", _("début"))
    list_display = [
        "title",
        "status",
        "work_status",
        "urgency",
        "start_at_short",
        "publish_at_short",
        "organization",
        "areas_list",
    ]
    list_filter = [
        "status",
        "work_status",
        "urgency",
        "road_state",
        "severity",
        ("organization", admin.RelatedOnlyFieldListFilter),
        "category",
        ("start_at", admin.DateFieldListFilter),
        ("publish_at", admin.DateFieldListFilter),
    ]
    search_fields = [*ContentAdmin.search_fields, "contractor"]
    readonly_fields = [*ContentAdmin.readonly_fields, "work_status"]
    fieldsets = (
        text_fieldset(),
        classification_fieldset(),
        (
            _("Chantier"),
            {
                "fields": [
                    "work_type",
                    "work_status",
                    ("start_at", "end_at"),
                    "night_work",
                    "severity",
                    "contractor",
                ],
                "description": _(
                    "L'état du chantier (prévu, en cours, terminé) suit les dates ; "
                    "l'annulation se fait par le bouton ou l'action « Annuler le chantier »."
                ),
            },
        ),
        (_("Localisation"), {"fields": ["geometry", "areas_list", "road_names"]}),
        (
            _("Circulation"),
            {
                "fields": [
                    ("road_state", "vehicle_impact"),
                    "direction",
                    "lanes_closed",
                    (
                        "impacts_road",
                        "impacts_sidewalk",
                        "impacts_bike_lane",
                        "impacts_parking",
                        "impacts_bus",
                    ),
                    "reduced_speed_limit_kph",
                    "restrictions",
                    "lanes",
                ]
            },
        ),
        (_("Déviation"), {"fields": ["detour_text", "detour_geometry"]}),
        publication_fieldset(),
        image_fieldset(),
    )

    @admin.action(description=CANCEL.label, permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: Any) -> None:
        self.apply_transition(request, queryset, CANCEL)

    def save_with_service(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        data = changed_values(form, WORKS_FIELDS)
        periods = next((formset_rows(f) for f in formsets if f.model is WorksPeriod), None)
        if periods is not None:
            data["periods"] = periods
        works_apply(works=obj, data=data, user=request.user)
