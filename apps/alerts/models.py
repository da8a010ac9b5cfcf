"""Public alerts: the CAP messages we publish, the CAP sources we read and what came of them.

``CapMessage`` is one CAP 1.2 document we published, frozen as sent (CAP messages are
immutable: an update or a cancel is a new message whose ``references`` name the earlier ones).
``CapSource`` is a feed (Atom or RSS of CAP alerts) or a single CAP file that the staff
configured; ``CapInbound`` records each document read from it, keyed by its digest, so that
polling the same feed again creates nothing.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.item_types import CODE_CHOICES
from apps.notifications.models import Notification


class MsgType(models.TextChoices):
    ALERT = "Alert", _("Alerte")
    UPDATE = "Update", _("Mise à jour")
    CANCEL = "Cancel", _("Annulation")


class CapStatus(models.TextChoices):
    ACTUAL = "Actual", _("Réelle")
    EXERCISE = "Exercise", _("Exercice")
    TEST = "Test", _("Test")


class CapMessageQuerySet(models.QuerySet):
    def of_item(self, item_type: str, item_id: int) -> CapMessageQuerySet:
        return self.filter(item_type=item_type, item_id=item_id)


class CapMessage(models.Model):
    identifier = models.CharField(_("identifiant"), max_length=120, unique=True)
    sender = models.CharField(_("émetteur"), max_length=120)
    item_type = models.CharField(_("type de contenu"), max_length=6, choices=CODE_CHOICES)
    item_id = models.BigIntegerField(_("contenu"))
    msg_type = models.CharField(_("type de message"), max_length=6, choices=MsgType.choices)
    status = models.CharField(_("statut CAP"), max_length=8, choices=CapStatus.choices)
    sent_at = models.DateTimeField(_("émis le"), db_index=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    references = models.TextField(_("références"), blank=True)
    headline = models.CharField(_("titre"), max_length=250)
    document = models.TextField(_("document CAP"))

    objects = CapMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("message CAP émis")
        verbose_name_plural = _("messages CAP émis")
        indexes = [models.Index(fields=["item_type", "item_id", "sent_at"], name="cap_item")]

    def __str__(self) -> str:
        return f"{self.msg_type} {self.identifier}"


class SourceKind(models.TextChoices):
    FEED = "feed", _("Flux Atom ou RSS d'alertes CAP")
    FILE = "file", _("Fichier CAP unique")


class CapSource(models.Model):
    name = models.CharField(_("nom"), max_length=120)
    url = models.URLField(_("adresse"), max_length=500)
    kind = models.CharField(_("type"), max_length=4, choices=SourceKind.choices)
    active = models.BooleanField(_("active"), default=True)
    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
        help_text=_("Les brouillons créés depuis cette source lui appartiennent."),
    )
    category = models.ForeignKey(
        "core.Category",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("catégorie des brouillons"),
    )
    certificate = models.TextField(
        _("certificat de signature (PEM)"),
        blank=True,
        help_text=_(
            "Si renseigné, chaque alerte doit porter une signature XML valide de ce certificat ; "
            "une alerte non signée ou mal signée est refusée et signalée."
        ),
    )
    last_polled_at = models.DateTimeField(_("dernière lecture"), null=True, blank=True)
    last_ok_at = models.DateTimeField(_("dernière lecture réussie"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("source CAP")
        verbose_name_plural = _("sources CAP")

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    CREATED = "created", _("brouillon créé")
    UPDATED = "updated", _("alerte mise à jour")
    WITHDRAWN = "withdrawn", _("alerte retirée")
    OUTSIDE = "outside", _("hors de la commune")
    IGNORED = "ignored", _("ignorée")
    INVALID = "invalid", _("invalide")


class CapInbound(models.Model):
    source = models.ForeignKey(
        CapSource, on_delete=models.CASCADE, related_name="inbound", verbose_name=_("source")
    )
    digest = models.CharField(max_length=64, editable=False)
    url = models.URLField(_("adresse"), max_length=500, blank=True)
    identifier = models.CharField(_("identifiant"), max_length=250, blank=True)
    sender = models.CharField(_("émetteur"), max_length=250, blank=True)
    sent_at = models.DateTimeField(_("émis le"), null=True, blank=True)
    msg_type = models.CharField(_("type de message"), max_length=6, blank=True)
    status = models.CharField(_("statut CAP"), max_length=8, blank=True)
    references = models.TextField(_("références"), blank=True)
    headline = models.CharField(_("titre"), max_length=250, blank=True)
    item_type = models.CharField(max_length=6, choices=CODE_CHOICES, blank=True)
    item_id = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(_("résultat"), max_length=10, choices=Outcome.choices)
    detail = models.TextField(_("détail"), blank=True)
    received_at = models.DateTimeField(_("reçue le"), auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("alerte CAP reçue")
        verbose_name_plural = _("alertes CAP reçues")
        constraints = [
            models.UniqueConstraint(fields=["source", "digest"], name="cap_inbound_digest")
        ]
        indexes = [models.Index(fields=["sender", "identifier"], name="cap_inbound_key")]

    def __str__(self) -> str:
        return f"{self.sender} {self.identifier}: {self.outcome}"


class AlertReport(Notification):
    """The admin entry of the delivery reports: the notifications of alerts (a proxy, no
    table of its own), each shown as its report (``apps.alerts.admin``)."""

    class Meta:
        proxy = True
        default_permissions = ("view",)
        verbose_name = _("rapport de diffusion d'alerte")
        verbose_name_plural = _("rapports de diffusion d'alertes")
