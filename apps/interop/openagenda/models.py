"""OpenAgenda agendas Quartier imports, and the events each one brought in.

Declared here and re-exported by ``apps.interop.models`` (the app's public models module).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

#: OpenAgenda's production API (servers of the contract); a fake server's URL in tests.
DEFAULT_BASE_URL = "https://api.openagenda.com/v3"


class AgendaSource(models.Model):
    """An OpenAgenda agenda read on a schedule, its events attributed to one organisation."""

    name = models.CharField(_("nom"), max_length=120, unique=True)
    base_url = models.URLField(
        _("adresse de l'API"),
        max_length=300,
        default=DEFAULT_BASE_URL,
        help_text=_("L'API OpenAgenda v3 ; à ne changer que pour un serveur de test."),
    )
    agenda_uid = models.BigIntegerField(_("identifiant de l'agenda (uid)"))
    key = models.CharField(
        _("clé d'API"),
        max_length=200,
        help_text=_("Clé publique (oa_pk_…) pour lire, ou secrète (oa_sk_…)."),
    )
    organization = models.ForeignKey(
        "core.Organization", on_delete=models.PROTECT, verbose_name=_("organisation")
    )
    category = models.ForeignKey(
        "core.Category", on_delete=models.PROTECT, verbose_name=_("catégorie")
    )
    moderated = models.BooleanField(
        _("agenda modéré par la ville"),
        default=False,
        help_text=_(
            "Coché : les événements sont publiés dès l'import. Sinon, ils arrivent en brouillon "
            "et un rédacteur les relit avant de les publier."
        ),
    )
    notify = models.BooleanField(
        _("notifier les habitants"),
        default=False,
        help_text=_("Comme pour un événement saisi ici : à la publication et aux changements."),
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
        verbose_name = _("agenda OpenAgenda")
        verbose_name_plural = _("agendas OpenAgenda")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgendaItem(models.Model):
    """One event an agenda brought in, keyed by its OpenAgenda ``uid``.

    What our ``Event`` has no column for stays here, for the staff: keywords, the image's
    address and credits, the page on OpenAgenda.
    """

    source = models.ForeignKey(AgendaSource, on_delete=models.CASCADE, related_name="items")
    event_uid = models.BigIntegerField(_("uid OpenAgenda"))
    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, related_name="openagenda_origin"
    )
    #: The mapping last applied, so that an unchanged event costs no write.
    fingerprint = models.CharField(max_length=64)
    keywords = models.JSONField(_("mots-clés"), default=dict, blank=True)
    image_url = models.URLField(_("image"), max_length=2048, blank=True)
    source_url = models.URLField(_("page OpenAgenda"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("événement importé")
        verbose_name_plural = _("événements importés")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_uid"], name="interop_agenda_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.event_uid}"
