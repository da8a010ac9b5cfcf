"""Staff admin of events and venues; events are saved with ``event_apply``.

Only the hand-added dates (occurrences of origin ``extra``) are edited inline: the service
rebuilds the main and recurrence rows from ``start_at``/``end_at`` and ``rrule``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from leaflet.admin import LeafletGeoAdminMixin

from apps.core.admin.content import (
    ContentAdmin,
    ContentForm,
    classification_fieldset,
    image_fieldset,
    publication_fieldset,
    text_fieldset,
)
from apps.core.admin.forms import URL_OVERRIDES, ChoiceListField, GeometryCheckedForm
from apps.core.admin.lifecycle import Transition
from apps.core.admin.lists import short_datetime
from apps.core.admin.permissions import ScopedInlineMixin, can_edit, is_editor
from apps.core.admin.saving import changed_values, formset_rows
from apps.events.models import Accessibility, Event, EventOccurrence, EventStatus, Venue
from apps.events.services import EVENT_FIELDS, event_apply, event_cancel, event_postpone

CANCEL = Transition(
    "cancel",
    _("Annuler l'événement"),
    _("Enregistrer et annuler l'événement"),
    ngettext_lazy("%(count)d événement annulé.", "%(count)d événements annulés.", "count"),
    lambda item, user: event_cancel(event=item, user=user),
    lambda item: item.event_status != EventStatus.CANCELLED,
    _("Annuler cet événement ? Les habitants concernés peuvent en être avertis."),
)
POSTPONE = Transition(
    "postpone",
    _("Reporter l'événement (date à venir)"),
    _("Enregistrer et reporter l'événement"),
    ngettext_lazy("%(count)d événement reporté.", "%(count)d événements reportés.", "count"),
    lambda item, user: event_postpone(event=item, user=user),
    lambda item: item.event_status not in (EventStatus.CANCELLED, EventStatus.POSTPONED),
    _("Reporter cet événement à une date encore inconnue ?"),
)


class EventForm(ContentForm):
    accessibility = ChoiceListField(label=_("Accessibilité"), choices=Accessibility.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Gratuit" is a statement the editor makes, not a default: unticked on a new event
        # (the model's default still serves API writes that leave it out).
        if self.instance.pk is None and "is_free" not in (kwargs.get("initial") or {}):
            self.initial["is_free"] = False


class ExtraDateInline(ScopedInlineMixin, admin.TabularInline):
    model = EventOccurrence
    extra = 0
    fields = ("start_at", "end_at")
    verbose_name = _("date supplémentaire")
    verbose_name_plural = _("dates supplémentaires (en plus de la date et de la récurrence)")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(origin=EventOccurrence.Origin.EXTRA)


@admin.register(Event)
class EventAdmin(ContentAdmin):
    form = EventForm
    inlines = [ExtraDateInline]
    transitions = (*ContentAdmin.transitions, CANCEL, POSTPONE)
    actions = [*ContentAdmin.actions, "cancel_selected", "postpone_selected"]
    autocomplete_fields = ("venue",)
    date_hierarchy = "start_at"
    start_at_short = short_datetime("start_at", _("début"))
    list_display = [
        "title",
        "status",
        "event_status",
        "urgency",
        "start_at_short",
        "venue",
        "publish_at_short",
        "organization",
        "areas_list",
    ]
    list_select_related = ["organization", "category", "venue"]
    list_filter = [
        "status",
        "event_status",
        "urgency",
        "audience",
        "is_free",
        ("organization", admin.RelatedOnlyFieldListFilter),
        "category",
        ("start_at", admin.DateFieldListFilter),
        ("publish_at", admin.DateFieldListFilter),
    ]
    search_fields = [*ContentAdmin.search_fields, "venue__name"]
    readonly_fields = [*ContentAdmin.readonly_fields, "event_status"]
    fieldsets = (
        text_fieldset(),
        classification_fieldset(),
        (
            _("Dates"),
            {
                "fields": [
                    "event_status",
                    ("start_at", "has_start_time"),
                    ("end_at", "has_end_time"),
                    "rrule",
                ],
                "description": _(
                    "Annulation et report par les boutons ou les actions ; les dates "
                    "supplémentaires s'ajoutent plus bas."
                ),
            },
        ),
        (
            _("Lieu"),
            {
                "fields": ["venue", "geometry", "areas_list"],
                "description": _(
                    "Sans tracé sur la carte, la position du lieu est utilisée. Dessinez un "
                    "parcours (ligne) ou une zone pour une course, un marché, une fête de quartier."
                ),
            },
        ),
        (
            _("Participation"),
            {
                "fields": [
                    "attendance_mode",
                    "online_url",
                    ("is_free", "price_min"),
                    "price_info",
                    "ticket_url",
                    ("registration_required", "registration_url"),
                ]
            },
        ),
        (_("Public"), {"fields": ["audience", ("age_min", "age_max"), "accessibility"]}),
        publication_fieldset(),
        image_fieldset(),
    )

    @admin.action(description=CANCEL.label, permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: Any) -> None:
        self.apply_transition(request, queryset, CANCEL)

    @admin.action(description=POSTPONE.label, permissions=["change"])
    def postpone_selected(self, request: HttpRequest, queryset: Any) -> None:
        self.apply_transition(request, queryset, POSTPONE)

    def save_with_service(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        data = changed_values(form, (*EVENT_FIELDS, "venue"))
        rows = next((formset_rows(f) for f in formsets if f.model is EventOccurrence), None)
        if rows is not None:
            data["extra_dates"] = [(row.start_at, row.end_at) for row in rows]
        event_apply(event=obj, data=data, user=request.user)


class VenueForm(GeometryCheckedForm):
    geometry_fields = ("location",)
    accessibility = ChoiceListField(label=_("Accessibilité"), choices=Accessibility.choices)


@admin.register(Venue)
class VenueAdmin(LeafletGeoAdminMixin, admin.ModelAdmin):
    """Venues are shared by every organization: members add and edit them, superusers delete."""

    form = VenueForm
    formfield_overrides = URL_OVERRIDES
    change_form_template = "admin/quartier/map_change_form.html"
    list_display = ("name", "address", "postal_code", "city")
    search_fields = ("name", "address", "city")
    fields = ("name", "address", ("postal_code", "city"), "location", "website", "accessibility")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_editor(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_edit(request.user) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit(request.user) or super().has_change_permission(request, obj)
