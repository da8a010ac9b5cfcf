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


# --------------------------------------------------------------------------------------------
# DiaLog outbound (docs/interop.md "Linking DiaLog")
# --------------------------------------------------------------------------------------------


class DialogLink(models.Model):
    """An organisation's DiaLog API client: its roadworks are sent there as regulations.

    The client secret is stored encrypted (``interop.dialog.secrets``, a key derived from
    ``SECRET_KEY``) and never shown back.
    """

    organization = models.OneToOneField(
        "core.Organization",
        on_delete=models.CASCADE,
        related_name="dialog_link",
        verbose_name=_("organisation"),
    )
    client_id = models.CharField(_("identifiant client (X-Client-Id)"), max_length=200)
    secret_encrypted = models.TextField(editable=False)
    identifier_prefix = models.CharField(
        _("préfixe des identifiants"),
        max_length=20,
        default="QRT-",
        help_text=_("Chaque chantier devient l'arrêté « préfixe + numéro », ex. QRT-42."),
    )
    enabled = models.BooleanField(_("activée"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("liaison DiaLog")
        verbose_name_plural = _("liaisons DiaLog")

    def __str__(self) -> str:
        return f"DiaLog — {self.organization}"


class RemoteState(models.TextChoices):
    ABSENT = "absent", _("absent de DiaLog")
    DRAFT = "draft", _("créé en brouillon")
    PUBLISHED = "published", _("publié")
    DELETED = "deleted", _("supprimé")


class DialogRegulation(models.Model):
    """The regulation DiaLog holds (or held) for one roadwork, by its identifier.

    ``works_id`` is not a foreign key: the row outlives a deleted roadwork, whose regulation
    must still be deleted there.
    """

    works_id = models.BigIntegerField(unique=True)
    organization = models.ForeignKey(
        "core.Organization", on_delete=models.CASCADE, related_name="dialog_regulations"
    )
    identifier = models.CharField(max_length=60, unique=True)
    remote_state = models.CharField(
        max_length=10, choices=RemoteState.choices, default=RemoteState.ABSENT
    )
    #: sha256 of the body DiaLog last accepted: an unchanged body is not sent again.
    sent_fingerprint = models.CharField(max_length=64, blank=True)
    #: Whether a request about it ever left (a create may have reached DiaLog unrecorded).
    touched = models.BooleanField(default=False)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("arrêté DiaLog")
        verbose_name_plural = _("arrêtés DiaLog")

    def __str__(self) -> str:
        return self.identifier


class ChangeAction(models.TextChoices):
    UPSERT = "upsert", _("créer ou mettre à jour, publier")
    DELETE = "delete", _("supprimer")


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("en attente")
    SENDING = "sending", _("en cours d'envoi")
    DONE = "done", _("transmis")
    SKIPPED = "skipped", _("rien à transmettre")
    FAILED = "failed", _("refusé ou abandonné")


class DialogChange(models.Model):
    """The outbox: one row per change of a linked roadwork, written in its transaction.

    The body is built when the change is sent, from the roadwork as it is then (DiaLog's update
    replaces the whole regulation): a body equal to the one DiaLog holds is not sent again.
    """

    regulation = models.ForeignKey(
        DialogRegulation, on_delete=models.CASCADE, related_name="changes"
    )
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    status = models.CharField(
        max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    #: The last answer's HTTP status (0: no answer: timeout, connection refused).
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    #: DiaLog's 422 ``violations`` ``[{propertyPath, title, parameters}]`` (titles in French).
    violations = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("envoi DiaLog")
        verbose_name_plural = _("envois DiaLog")
        indexes = [models.Index(fields=["status", "not_before"], name="interop_dialog_due")]

    def __str__(self) -> str:
        return f"{self.regulation_id}:{self.action}:{self.status}"


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
    "ChangeAction",
    "ChangeStatus",
    "DialogChange",
    "DialogLink",
    "DialogRegulation",
    "RemoteState",
    "Source",
    "SourceFormat",
    "SourceItem",
    "Street",
]
