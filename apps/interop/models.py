"""Import sources of roadworks and the works each one brought in (for updates and withdrawals)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SourceFormat(models.TextChoices):
    WZDX = "wzdx", _("WZDx 4.x (GeoJSON)")
    DATEX2 = "datex2", _("DATEX II v3 (réglementations, extensions DiaLog)")


class Source(models.Model):
    """A feed of roadworks Quartier imports on a schedule, attributed to one organisation."""

    name = models.CharField(_("nom"), max_length=120, unique=True)
    format = models.CharField(_("format"), max_length=10, choices=SourceFormat.choices)
    url = models.URLField(_("adresse (URL)"), max_length=500, blank=True)
    file = models.FileField(_("fichier"), upload_to="interop/sources/", blank=True)
    organization = models.ForeignKey(
        "core.Organization", on_delete=models.PROTECT, verbose_name=_("organisation")
    )
    category = models.ForeignKey(
        "core.Category", on_delete=models.PROTECT, verbose_name=_("catégorie")
    )
    notify = models.BooleanField(
        _("notifier les habitants"),
        default=True,
        help_text=_("Comme pour un chantier saisi ici : à la publication et aux changements."),
    )
    enabled = models.BooleanField(_("activée"), default=True)
    last_run_at = models.DateTimeField(_("dernière exécution"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernier succès"), null=True, blank=True)
    created_count = models.PositiveIntegerField(_("créés"), default=0)
    updated_count = models.PositiveIntegerField(_("modifiés"), default=0)
    unchanged_count = models.PositiveIntegerField(_("inchangés"), default=0)
    withdrawn_count = models.PositiveIntegerField(_("retirés"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(url="") & ~Q(file="")) | (~Q(url="") & Q(file="")),
                name="interop_source_url_or_file",
                violation_error_message=_("Indiquez une adresse ou un fichier, pas les deux."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def location(self) -> str:
        return self.url or (self.file.name or "" if self.file else "")


class SourceItem(models.Model):
    """One works a source brought in, keyed by the source's own identifier."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=255)
    works = models.OneToOneField(
        "works.Works", on_delete=models.CASCADE, related_name="import_origin"
    )
    #: The record last applied, so that an unchanged item costs no write.
    fingerprint = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="interop_source_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"


# OpenAgenda (apps/interop/openagenda/models.py), re-exported as the app's models.
# The built-in geocoder's streets (apps/interop/geocoding/models.py), likewise.
from apps.interop.geocoding.models import Street  # noqa: E402
from apps.interop.openagenda.models import (  # noqa: E402
    AgendaExport,
    AgendaItem,
    AgendaLocation,
    AgendaSource,
)

__all__ = [
    "AgendaExport",
    "AgendaItem",
    "AgendaLocation",
    "AgendaSource",
    "Source",
    "SourceFormat",
    "SourceItem",
    "Street",
]
