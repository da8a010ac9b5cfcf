"""Admin form pieces shared by the content types: geometry checks and friendlier fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.api.parsers import BoundedJSONFormField

#: ``formfield_overrides`` of every admin: a typed "www.ville.fr" becomes https://… (Django 6's
#: default, chosen now).
URL_OVERRIDES: dict[Any, dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"},
    # JSON typed by staff is read by the API's bounded parser (no RecursionError on nesting).
    models.JSONField: {"form_class": BoundedJSONFormField},
}


def validate_drawn_geometry(geometry: GEOSGeometry | None) -> GEOSGeometry | None:
    """Refuse what PostGIS would refuse later: invalid shapes and out-of-range coordinates.

    A self-intersecting polygon (a "bow tie") is invalid; longitudes must lie in [-180, 180]
    and latitudes in [-90, 90] (WGS84), or distance queries on ``geography`` fail.
    """
    if geometry is None:
        return None
    if geometry.empty:
        raise ValidationError(_("La géométrie est vide : dessinez-la sur la carte."))
    min_lon, min_lat, max_lon, max_lat = geometry.extent
    if min_lon < -180 or max_lon > 180 or min_lat < -90 or max_lat > 90:
        raise ValidationError(
            _("Coordonnées hors limites : longitude entre -180 et 180, latitude entre -90 et 90.")
        )
    if not geometry.valid:
        raise ValidationError(
            _("La géométrie n'est pas valide (%(reason)s) : redessinez-la sans croisement."),
            params={"reason": geometry.valid_reason},
            code="invalid_geometry",
        )
    return geometry


class GeometryCheckedForm(forms.ModelForm):
    """A model form whose geometry fields (``geometry_fields``) are checked on input."""

    geometry_fields: tuple[str, ...] = ("geometry",)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.geometry_fields:
            if name in cleaned:
                try:
                    validate_drawn_geometry(cleaned[name])
                except ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned


class LinesField(forms.CharField):
    """A list of short texts, one per line (e.g. the streets concerned)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial or []) != self.to_python(data or "")


class ChoiceListField(forms.TypedMultipleChoiceField):
    """A JSON list of codes edited as checkboxes (e.g. the accessibility types)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, choices: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(choices=choices, coerce=str, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value if isinstance(value, list | tuple) else []
