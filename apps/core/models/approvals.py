"""Approval requests: the two-person rule's record of who asked, who approved or refused, and why.

One row per request to publish (or schedule) an item that needs a validator's approval
(``apps.core.approval_rule``). Rows are never deleted with their item (``item_type`` and
``item_id`` as in ``Tombstone``, not a foreign key), so the record stays auditable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ApprovalState(models.TextChoices):
    PENDING = "pending", _("En attente de validation")
    APPROVED = "approved", _("Approuvée")
    REFUSED = "refused", _("Refusée")
    WITHDRAWN = "withdrawn", _("Retirée")


class ApprovalAction(models.TextChoices):
    PUBLISH = "publish", _("Publier maintenant")
    SCHEDULE = "schedule", _("Programmer")


class ApprovalRequestQuerySet(models.QuerySet):
    def for_item(self, item) -> ApprovalRequestQuerySet:
        return self.filter(item_type=item.type_code, item_id=item.pk)

    def pending(self) -> ApprovalRequestQuerySet:
        return self.filter(state=ApprovalState.PENDING)


class ApprovalRequest(models.Model):
    """A request to publish an item, and the validator's decision on it."""

    item_type = models.CharField(_("type de contenu"), max_length=10)
    item_id = models.BigIntegerField(_("contenu"))
    item_title = models.CharField(_("titre du contenu"), max_length=200)
    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.PROTECT,
        related_name="approval_requests",
        verbose_name=_("organisation"),
    )
    action = models.CharField(_("action demandée"), max_length=10, choices=ApprovalAction.choices)
    publish_at = models.DateTimeField(_("publication demandée le"), null=True, blank=True)
    reasons = models.CharField(
        _("motif de la validation"),
        max_length=200,
        help_text=_("Pourquoi une seconde personne doit valider (alerte, toute la ville, rôle)."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="approval_requests",
        verbose_name=_("demandée par"),
    )
    requested_at = models.DateTimeField(_("demandée le"))
    state = models.CharField(
        _("état"),
        max_length=10,
        choices=ApprovalState.choices,
        default=ApprovalState.PENDING,
        db_default=ApprovalState.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_decisions",
        verbose_name=_("décidée par"),
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    refusal_reason = models.TextField(_("motif du refus"), blank=True, db_default="")

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("demande de validation")
        verbose_name_plural = _("demandes de validation")
        constraints = [
            models.UniqueConstraint(
                fields=["item_type", "item_id"],
                condition=Q(state="pending"),
                name="approval_one_pending_per_item",
            ),
            # The two-person rule, in the database too: nobody decides on their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="approval_decided_by_someone_else",
            ),
            models.CheckConstraint(
                condition=~Q(state="refused") | ~Q(refusal_reason=""),
                name="approval_refusal_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "withdrawn"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="approval_decision_recorded",
            ),
        ]
        indexes = [
            models.Index(fields=["item_type", "item_id"], name="approval_item"),
            models.Index(fields=["organization", "state"], name="approval_org_state"),
        ]

    def __str__(self) -> str:
        return f"{self.item_title} · {self.get_state_display()}"
