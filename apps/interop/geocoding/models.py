"""The city's own street names, for the built-in geocoder (``apps.interop.geocoding``).

Declared here and re-exported by ``apps.interop.models``.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.geo import WGS84


class Street(models.Model):
    """A named street of the city (a line), filled by ``import_streets`` or the demo."""

    name = models.CharField(_("nom"), max_length=200)
    #: ``name`` lower-cased, without accents nor punctuation (``text.normalise``).
    search_name = models.CharField(max_length=200, db_index=True, editable=False)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    geometry = models.MultiLineStringField(_("tracé"), srid=WGS84)

    class Meta:
        verbose_name = _("voie")
        verbose_name_plural = _("voies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "city"], name="interop_street_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
