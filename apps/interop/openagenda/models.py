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
    export_enabled = models.BooleanField(
        _("envoyer les événements de l'organisation"),
        default=False,
        help_text=_(
            "Les événements publiés ici par l'organisation sont envoyés à cet agenda (clé "
            "secrète oa_sk_… nécessaire), puis mis à jour et retirés avec eux."
        ),
    )
    export_location_uid = models.BigIntegerField(
        _("lieu OpenAgenda par défaut (uid)"),
        null=True,
        blank=True,
        help_text=_("Pour un événement dont le lieu n'est pas encore connu de l'agenda."),
    )
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


class AgendaLocation(models.Model):
    """An OpenAgenda location uid of one of our venues, per agenda (learnt on import)."""

    source = models.ForeignKey(AgendaSource, on_delete=models.CASCADE, related_name="locations")
    venue = models.ForeignKey("events.Venue", on_delete=models.CASCADE, related_name="+")
    location_uid = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "venue"], name="interop_agenda_location_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.venue_id}→{self.location_uid}"


class AgendaExport(models.Model):
    """The outbox of the export: what to send to an agenda for one of our events.

    One row per (agenda, event): a new change replaces the pending operation, so a burst of
    edits sends the latest state once. ``ext_id`` is our event id, OpenAgenda's external id
    under the key ``EXT_KEY``; it outlives the event, so a deletion can still be sent.
    """

    class Operation(models.TextChoices):
        SET = "set", _("envoi")
        DELETE = "delete", _("retrait")

    class State(models.TextChoices):
        PENDING = "pending", _("à envoyer")
        DONE = "done", _("envoyé")
        FAILED = "failed", _("en échec")

    source = models.ForeignKey(AgendaSource, on_delete=models.CASCADE, related_name="exports")
    ext_id = models.CharField(max_length=40)
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("événement"),
    )
    title = models.CharField(_("titre"), max_length=200, blank=True)
    operation = models.CharField(_("opération"), max_length=6, choices=Operation.choices)
    state = models.CharField(
        _("état"), max_length=7, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("essais"), default=0)
    next_attempt_at = models.DateTimeField(_("prochain essai"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    event_uid = models.BigIntegerField(_("uid OpenAgenda"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("envoi vers OpenAgenda")
        verbose_name_plural = _("envois vers OpenAgenda")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "ext_id"], name="interop_agenda_export_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.ext_id} {self.operation} {self.state}"
