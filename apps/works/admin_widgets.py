"""The roadwork form's structured fields: restriction rows, weekday boxes, time pickers.

Editors never type JSON or "12345": restrictions are rows of WZDx type, value and unit chosen
from the model's vocabulary; a period's days are seven checkboxes; its hours are time inputs.
The values stored stay those of the API (``[{type, value?, unit?}]``, ISO weekdays ``12345``),
and each refusal names the row and the field in French.
"""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.works.models import (
    RESTRICTION_UNIT_FAMILY,
    RestrictionType,
    RestrictionUnit,
    WorksPeriod,
    restriction_error,
)

#: Blank rows offered under the existing restrictions (the page's script adds more).
BLANK_ROWS = 2
#: A form never carries more rows than this (the WZDx list is short: one per kind).
MAX_ROWS = len(RestrictionType.values)
FIELD_LABELS = {"type": _("type"), "value": _("valeur"), "unit": _("unité")}


class RestrictionRowsWidget(forms.Widget):
    """Rows of (type, value, unit); row ``i`` posts ``<name>-<i>-type``, ``-value``, ``-unit``.

    Numbered, not parallel lists: a browser leaves a disabled input out of the post, so the
    value and unit of a type without a measure are simply absent from their own row.
    """

    template_name = "admin/works/restriction_rows.html"

    class Media:
        js = ("works/restriction_rows.js",)
        css = {"all": ("works/structured_fields.css",)}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        # The stored list, or the rows as typed when the form comes back with an error.
        rows = [
            row
            for row in (value or [])
            if isinstance(row, dict) and any(row.get(key) not in (None, "") for key in row)
        ]
        context["rows"] = [
            {
                "type": row.get("type", ""),
                "value": "" if row.get("value") is None else _number_text(row["value"]),
                "unit": row.get("unit") or "",
            }
            for row in rows
        ] + [{"type": "", "value": "", "unit": ""}] * BLANK_ROWS
        context["types"] = [
            (code, label, " ".join(sorted(_units_of(code))))
            for code, label in RestrictionType.choices
        ]
        context["units"] = RestrictionUnit.choices
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        # Bounded: blank rows aside, more than MAX_ROWS is refused by the field.
        rows = []
        for index in range(4 * MAX_ROWS):
            prefix = f"{name}-{index}-"
            if f"{prefix}type" not in data:
                break
            rows.append(
                {
                    "type": data.get(f"{prefix}type") or "",
                    "value": data.get(f"{prefix}value") or "",
                    "unit": data.get(f"{prefix}unit") or "",
                }
            )
        return rows

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-0-type" not in data


def _units_of(code: str) -> frozenset[str]:
    family = RESTRICTION_UNIT_FAMILY.get(RestrictionType(code))
    return frozenset(str(unit) for unit in family) if family else frozenset()


def _number_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


class RestrictionsField(forms.Field):
    """The WZDx restriction list, edited as rows; blank rows are ignored."""

    widget = RestrictionRowsWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        if not value:
            return []
        if not isinstance(value, list):
            raise forms.ValidationError(_("Les restrictions sont une liste."))
        restrictions: list[dict[str, Any]] = []
        errors: list[forms.ValidationError] = []
        for position, row in enumerate(value, start=1):
            if (
                isinstance(row, dict)
                and all(k in row for k in ("type", "value", "unit"))
                and (isinstance(row["value"], str))
            ):
                kind = (row["type"] or "").strip()
                raw_value = row["value"].strip().replace(",", ".")
                unit = (row["unit"] or "").strip()
                if not (kind or raw_value or unit):
                    continue  # a blank row
                entry: dict[str, Any] = {"type": kind}
                if raw_value:
                    try:
                        number = float(raw_value)
                    except ValueError:
                        number = math.nan
                    if not math.isfinite(number):
                        errors.append(self._error(position, "value", _("un nombre, ex. 350.")))
                        continue
                    entry["value"] = int(number) if number.is_integer() else number
                if unit:
                    entry["unit"] = unit
            else:
                entry = row
            problem = restriction_error(entry)
            if problem:
                errors.append(self._error(position, problem[0], problem[1]))
            else:
                restrictions.append(entry)
        if errors:
            raise forms.ValidationError(errors)
        if len(restrictions) > MAX_ROWS:
            raise forms.ValidationError(
                _("Au plus %(n)d restrictions (une par type)."), params={"n": MAX_ROWS}
            )
        return restrictions

    @staticmethod
    def _error(position: int, field: str, message: Any) -> forms.ValidationError:
        return forms.ValidationError(
            _("Restriction %(n)d, %(field)s : %(message)s"),
            params={"n": position, "field": FIELD_LABELS.get(field, field), "message": message},
            code="restriction",
        )

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (initial or [])
        except forms.ValidationError:
            return True


ISO_WEEKDAYS = [
    ("1", _("lun.")),
    ("2", _("mar.")),
    ("3", _("mer.")),
    ("4", _("jeu.")),
    ("5", _("ven.")),
    ("6", _("sam.")),
    ("7", _("dim.")),
]


class WeekdaysField(forms.MultipleChoiceField):
    """ISO weekdays as seven checkboxes, stored as the model's string (``12345``)."""

    widget = forms.CheckboxSelectMultiple(attrs={"class": "weekday-boxes"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages", {"required": _("Jours : cochez au moins un jour de la semaine.")}
        )
        super().__init__(choices=ISO_WEEKDAYS, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return list(value) if isinstance(value, str) else value

    def clean(self, value: Any) -> str:
        days = super().clean(value)
        return "".join(sorted(set(days)))

    def has_changed(self, initial: Any, data: Any) -> bool:
        return "".join(sorted(set(data or []))) != (initial or "")


def time_picker() -> forms.TimeInput:
    return forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 60})


class WorksPeriodForm(forms.ModelForm):
    weekdays = WeekdaysField(label=_("Jours"), initial="1234567")

    class Meta:
        model = WorksPeriod
        fields = ("start_date", "end_date", "weekdays", "daily_start_time", "daily_end_time")
        widgets = {"daily_start_time": time_picker(), "daily_end_time": time_picker()}

    class Media:
        css = {"all": ("works/structured_fields.css",)}
