"""The API's query parameters: the request kit every list uses, and the fields that parse them.

``KnownQueryParams`` is the one kit of every list route (architecture.md §5): a parameter the
route does not document is a 400, and so is a malformed ``page`` or ``page_size``, before any
query runs (a 304 or a cached answer included). The form fields refuse what they cannot read with a
message naming the expected form, so a malformed parameter never reaches the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from django import forms
from django.contrib.gis.geos import Point, Polygon
from django.core.validators import ProhibitNullCharactersValidator, validate_slug
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from apps.core.geo import point

#: At most this many values in a comma list (``category=a,b,c``).
MAX_LIST_VALUES = 50

#: The page-number parameters of paginated lists (``apps.core.api.pagination``).
PAGE_PARAMETERS = frozenset({"page", "page_size"})
#: Larger numbers are typing mistakes (and would overflow the database's integers).
MAX_PAGE_DIGITS = 9


def positive_int_param(request: Request, name: str) -> int | None:
    """The query parameter ``name`` as an integer ≥ 1, ``None`` if absent; else a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
        raise ValidationError({name: [gettext("Un entier positif est attendu.")]})
    return int(raw)


class KnownQueryParams:
    """The request kit of list views: only documented query parameters, pages checked.

    A view names its own parameters in ``query_params_allowed``; ``query_params_known`` adds
    what the view's machinery reads (its FilterSet's filters, ``page``/``page_size`` under a
    page-number paginator, ``format`` where the format is negotiable). Checked in
    ``initial``, after authentication, permissions and throttles, before the handler.
    """

    query_params_allowed: ClassVar[frozenset[str]] = frozenset()

    def query_params_checked(self) -> bool:
        """Whether this request's query is checked (viewsets check their list actions)."""
        return True

    def query_params_known(self) -> set[str]:
        known = set(self.query_params_allowed)
        filterset = getattr(self, "filterset_class", None)
        if filterset is not None:
            known.update(filterset.base_filters)
        if self.query_params_paginated():
            known.update(PAGE_PARAMETERS)
        return known

    def query_params_paginated(self) -> bool:
        pagination = getattr(self, "pagination_class", None)
        return pagination is not None and issubclass(pagination, PageNumberPagination)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        method = (request.method or "").lower()
        # A method the view does not handle is a 405 (DRF's dispatch), whatever the query.
        if method not in self.http_method_names or not hasattr(self, method):  # type: ignore[attr-defined]
            return
        if self.query_params_checked():
            query_params_check(
                request,
                known=self.query_params_known(),
                pages=method in ("get", "head"),
            )


def query_params_check(request: Request, *, known: Iterable[str], pages: bool = True) -> None:
    """400 for a parameter not in ``known`` (a typo must not pass unseen), or a bad page.

    ``pages``: check ``page`` and ``page_size`` too (reads; a write ignores them, as before).
    """
    known = frozenset(known)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ValidationError({name: [gettext("Paramètre inconnu.")] for name in unknown})
    if pages:
        for name in sorted(PAGE_PARAMETERS & known):
            positive_int_param(request, name)


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


class _ParsedField(forms.Field):
    """A query parameter read as stripped text (NUL characters refused), then parsed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(ProhibitNullCharactersValidator())

    def text(self, value: Any) -> str:
        text = "" if value is None else str(value).strip()
        if "\x00" in text:
            raise forms.ValidationError(_("Les caractères nuls ne sont pas acceptés."))
        return text


class LatLonField(_ParsedField):
    """``lat,lon`` in degrees (WGS 84) → a Point."""

    def to_python(self, value: Any) -> Point | None:
        coordinates = self.coordinates(value)
        return None if coordinates is None else point(*coordinates)

    def coordinates(self, value: Any) -> tuple[float, float] | None:
        """``(lon, lat)`` of ``value``, checked as ``clean`` checks it, without a GEOS point
        (the item index's lists measure from the numbers: apps.recommend.online.index_lists)."""
        text = self.text(value)
        if not text:
            return None
        parts = text.split(",")
        try:
            if len(parts) != 2:
                raise ValueError(text)
            lat, lon = (_float(part) for part in parts)
        except ValueError:
            raise forms.ValidationError(
                _("Attendu : « lat,lon » en degrés, ex. 45.764,4.8357.")
            ) from None
        if not -90 <= lat <= 90:
            raise forms.ValidationError(_("La latitude est comprise entre -90 et 90."))
        if not -180 <= lon <= 180:
            raise forms.ValidationError(_("La longitude est comprise entre -180 et 180."))
        return lon, lat


class BBoxField(_ParsedField):
    """``minlon,minlat,maxlon,maxlat`` → a Polygon."""

    def to_python(self, value: Any) -> Polygon | None:
        text = self.text(value)
        if not text:
            return None
        try:
            numbers = [_float(part) for part in text.split(",")]
        except ValueError:
            numbers = []
        if len(numbers) != 4:
            raise forms.ValidationError(_("Quatre nombres attendus : minlon,minlat,maxlon,maxlat."))
        min_lon, min_lat, max_lon, max_lat = numbers
        if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
            raise forms.ValidationError(_("Les longitudes sont comprises entre -180 et 180."))
        if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
            raise forms.ValidationError(_("Les latitudes sont comprises entre -90 et 90."))
        if min_lon >= max_lon or min_lat >= max_lat:
            raise forms.ValidationError(_("Le minimum doit être inférieur au maximum."))
        return Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))


class CommaListField(_ParsedField):
    """A comma list of values; with ``allowed``, each must be one of them."""

    def __init__(self, *, allowed: list[str] | None = None, slugs: bool = False, **kwargs: Any):
        self.allowed = allowed
        self.slugs = slugs
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        text = self.text(value)
        values = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        if len(values) > MAX_LIST_VALUES:
            raise forms.ValidationError(_("%(n)d valeurs au plus.") % {"n": MAX_LIST_VALUES})
        for item in values:
            if self.allowed is not None and item not in self.allowed:
                # Params, not a formatted message: django-filter formats it again, and a value
                # holding "%d" would then raise TypeError (a 500 found by make fuzz).
                raise forms.ValidationError(
                    _("Valeur inconnue « %(v)s » ; valeurs possibles : %(c)s."),
                    params={"v": item, "c": ", ".join(self.allowed)},
                )
            if self.slugs:
                validate_slug(item)
        return values


#: Dates outside these years are typing mistakes (and overflow time zone arithmetic).
MIN_YEAR, MAX_YEAR = 1970, 2200


def _plausible(value: Any) -> Any:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise forms.ValidationError(
            _("Les dates sont comprises entre %(a)d et %(b)d.") % {"a": MIN_YEAR, "b": MAX_YEAR}
        )
    return value


class LenientDateTimeField(forms.DateTimeField):
    """ISO 8601; a ``+`` of the UTC offset that the query string turned into a space is fixed."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
        try:
            return _plausible(super().to_python(value))
        except OverflowError:
            raise forms.ValidationError(_("Saisissez une date et une heure valides.")) from None


class PlausibleDateField(forms.DateField):
    def to_python(self, value: Any) -> Any:
        return _plausible(super().to_python(value))
