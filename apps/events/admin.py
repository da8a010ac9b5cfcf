"""Staff admin of events and venues; events are saved with ``event_apply``.

Only the hand-added dates (occurrences of origin ``extra``) are edited inline: the service
rebuilds the main and recurrence rows from ``start_at``/``end_at`` and ``rrule``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
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
from apps.core.audit.admin import AuditHistoryMixin
from apps.events.models import Accessibility, Event, EventOccurrence, EventStatus, Venue
from apps.events.recurrence import MAX_OCCURRENCES, RecurrenceError, recurrence_expand
from apps.events.recurrence_picker import PickerError, picker_choice, picker_rule
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


#: The preview lists this many dates; the total is given too.
PREVIEW_DATES = 24


class RecurrencePickerWidget(forms.TextInput):
    """The RRULE text box with the picker around it (``events/recurrence_picker.js``).

    The picker writes the rule the server builds (``recurrence_picker.picker_rule``) into the
    box and shows the next dates the server computes with the API's bounded validator; the
    box itself stays, under "Règle personnalisée", for rules the picker cannot express.
    """

    template_name = "admin/events/recurrence_picker.html"

    class Media:
        js = ("events/recurrence_picker.js",)
        css = {"all": ("events/recurrence_picker.css",)}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["preview_url"] = reverse("admin:events_event_recurrence_preview")
        context["weekdays"] = [
            ("MO", _("lundi")),
            ("TU", _("mardi")),
            ("WE", _("mercredi")),
            ("TH", _("jeudi")),
            ("FR", _("vendredi")),
            ("SA", _("samedi")),
            ("SU", _("dimanche")),
        ]
        context["positions"] = [
            ("1", _("1er")),
            ("2", _("2e")),
            ("3", _("3e")),
            ("4", _("4e")),
            ("-1", _("dernier")),
        ]
        return context


def _typed_date(text: str) -> Any:
    """A date as the admin shows them (``jj/mm/aaaa``; ISO accepted too)."""
    return forms.DateField(input_formats=["%d/%m/%Y", "%Y-%m-%d"]).clean(text.strip())


class ExcludedDatesField(forms.CharField):
    """The days the recurrence skips, one per line (``jj/mm/aaaa``); stored as ISO dates.

    The picker's preview fills it: each date has a "Sauter" button, each skipped one a
    "Rétablir" button.
    """

    widget = forms.Textarea(attrs={"rows": 2, "cols": 24, "class": "rp-skipped-dates"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(
                date.fromisoformat(day).strftime("%d/%m/%Y") if isinstance(day, str) else day
                for day in value
            )
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return sorted({str(day) for day in value})
        lines = [line.strip() for line in (super().to_python(value) or "").splitlines()]
        days: set[str] = set()
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            try:
                days.add(_typed_date(line).isoformat())
            except ValidationError:
                raise ValidationError(
                    _(
                        "Dates sautées, ligne %(n)d : « %(value)s » n'est pas une date "
                        "(jj/mm/aaaa)."
                    ),
                    params={"n": number, "value": line[:20]},
                ) from None
            if len(days) > MAX_OCCURRENCES:
                raise ValidationError(
                    _("Au plus %(n)d dates sautées."), params={"n": MAX_OCCURRENCES}
                )
        return sorted(days)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != sorted(initial or [])
        except ValidationError:
            return True


class EventForm(ContentForm):
    accessibility = ChoiceListField(label=_("Accessibilité"), choices=Accessibility.choices)
    excluded_dates = ExcludedDatesField(
        label=_("Dates sautées"),
        help_text=_(
            "Jours où la récurrence n'a pas lieu (jour férié, relâche), un par ligne "
            "(jj/mm/aaaa) ; ou bouton « Sauter » dans l'aperçu des dates."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Gratuit" is a statement the editor makes, not a default: unticked on a new event
        # (the model's default still serves API writes that leave it out).
        if self.instance.pk is None and "is_free" not in (kwargs.get("initial") or {}):
            self.initial["is_free"] = False


def _typed_datetime(date_text: str, time_text: str) -> Any:
    """A date and a time as the admin's fields show them (French formats), made aware."""
    return forms.SplitDateTimeField().clean([date_text.strip(), time_text.strip() or "00:00"])


def recurrence_preview(request: HttpRequest) -> JsonResponse:
    """The rule the picker stands for and its next dates, computed as the API computes them.

    GET, for the change form's picker: ``pick_*`` fields (or ``rrule`` with
    ``pick_mode=rule``), ``start_0``/``start_1`` the start as typed, ``extra`` the hand-added
    dates (``date|time``). A 400 carries a French ``error`` and the ``field`` to blame.
    """

    def refuse(message: str, field: str) -> JsonResponse:
        return JsonResponse({"error": message, "field": field}, status=400)

    query = request.GET
    try:
        if query.get("pick_mode") == "rule":
            rule = query.get("rrule", "").strip()
        else:
            rule = picker_rule(
                picker_choice(query, query.getlist("pick_byday")),
                tz=timezone.get_current_timezone(),
            )
    except PickerError as error:
        return refuse(str(error), error.field)
    try:
        start = _typed_datetime(query.get("start_0", ""), query.get("start_1", ""))
    except ValidationError:
        return refuse(gettext("Indiquez d'abord la date et l'heure de début."), "start_at")
    skipped: set[str] = set()
    for line in query.get("skip", "").splitlines()[: MAX_OCCURRENCES + 1]:
        if not line.strip():
            continue
        try:
            skipped.add(_typed_date(line).isoformat())
        except ValidationError:
            return refuse(
                gettext("Dates sautées : « %s » n'est pas une date (jj/mm/aaaa).") % line[:20],
                "excluded_dates",
            )
    extras = query.getlist("extra")[:MAX_OCCURRENCES]
    dated: list[tuple[Any, str]] = []
    for extra in extras:
        day, _sep, hour = extra.partition("|")
        if not day.strip():
            continue
        try:
            dated.append((_typed_datetime(day, hour), "extra"))
        except ValidationError:
            return refuse(gettext("Une date supplémentaire est invalide : %s") % day, "extra")
    try:
        starts = recurrence_expand(rule=rule, dtstart=start) if rule else [start]
    except RecurrenceError as error:
        return refuse(str(error), "rrule")
    if rule and starts[0].date().isoformat() in skipped:
        return refuse(
            gettext("La première date ne peut pas être sautée : avancez plutôt le début."),
            "excluded_dates",
        )
    dated += [
        (moment, "skipped" if rule and moment.date().isoformat() in skipped else "rule")
        for moment in starts
    ]
    dated.sort(key=lambda pair: pair[0])
    with_time = query.get("has_start_time", "true") != "false"
    shape = "l j F Y, H:i" if with_time else "l j F Y"
    return JsonResponse(
        {
            "rrule": rule,
            "total": sum(kind != "skipped" for _moment, kind in dated),
            "dates": [
                {
                    "label": formats.date_format(timezone.localtime(moment), shape),
                    "day": timezone.localtime(moment).strftime("%d/%m/%Y"),
                    "extra": kind == "extra",
                    "skipped": kind == "skipped",
                    "first": kind != "extra" and moment == starts[0],
                }
                for moment, kind in dated[:PREVIEW_DATES]
            ],
        }
    )


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
                    "excluded_dates",
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

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "rrule":
            kwargs["widget"] = RecurrencePickerWidget
            kwargs["help_text"] = _(
                "Choisissez la répétition : la règle (RRULE) s'écrit seule et les dates "
                "s'affichent avant l'enregistrement."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "recurrence-preview/",
                self.admin_site.admin_view(self.recurrence_preview_view),
                name="events_event_recurrence_preview",
            )
        ]
        return own + super().get_urls()

    def recurrence_preview_view(self, request: HttpRequest) -> JsonResponse:
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        return recurrence_preview(request)

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
class VenueAdmin(AuditHistoryMixin, LeafletGeoAdminMixin, admin.ModelAdmin):
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
