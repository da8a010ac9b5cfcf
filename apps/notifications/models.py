"""Notifications and their deliveries: the outbox of the push pipeline (architecture.md §6).

A ``Notification`` is one thing to tell residents (an item published, updated, a reminder, a
digest, a staff test). Its ``key`` is unique: a trigger that fires twice (a beat tick retried, a
signal sent again) finds the row and adds nothing. Its texts are frozen when it is created, one
title and body per language, so what a resident received stays what they read.

A ``Delivery`` is that notification for one device, unique on (notification, device): the
audience is inserted in the notification's transaction, so either both exist or neither, and a
worker that runs a batch twice cannot push twice. Its life::

    pending ──claim──▶ sending ──▶ sent
       ▲  ╲                 ╲───▶ failed (dead token, bad payload, auth, out of retries)
       │   ╲──▶ held (quiet hours; back to pending at ``not_before``)
       │    ╲─▶ skipped (no live token any more, notifications off, daily cap → digest)
       └── transient error or quota: pending again with ``not_before`` (backoff)

``why`` records why the device was in the audience (a place and its distance, a followed area,
a followed category, a saved item): ``/api/v1/me/notifications/`` turns it into "300 m from
Home". Rows are owned by the device (``on_delete=CASCADE``): erasing a device erases them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.item_types import ItemType
from apps.core.models import Urgency, audited
from apps.notifications.codes import DeliveryStatus, Kind, Reason
from apps.residents.models import Device

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "ItemType",
    "Kind",
    "Notification",
    "OpenTicket",
    "Reason",
]


#: ``item_type`` stores the API code, labelled with the type's French name for the staff.
ITEM_TYPE_CHOICES = [(t.code, t.title) for t in ItemType]


class Notification(models.Model):
    key = models.CharField(max_length=120, unique=True, editable=False)
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    item_type = models.CharField(
        _("type de contenu"), max_length=6, choices=ITEM_TYPE_CHOICES, blank=True
    )
    item_id = models.BigIntegerField(_("contenu"), null=True, blank=True)
    urgency = models.PositiveSmallIntegerField(
        _("urgence"), choices=Urgency.choices, default=Urgency.INFO
    )
    #: The collapse id: an update of the same item replaces the earlier push on the phone.
    tag = models.CharField(max_length=64, blank=True)
    #: ``{"fr": {"title": …, "body": …}, "en": {…}}``
    texts = models.JSONField(default=dict)
    targeted = models.PositiveIntegerField(_("appareils ciblés"), default=0)
    #: Opens from the push reported by the app, every device counted (``OpenTicket``): a bare
    #: counter, nothing says which device opened.
    opens = models.PositiveIntegerField(_("ouvertures"), default=0, db_default=0, editable=False)
    #: Devices the push was handed to FCM for, and when the first was: kept after the
    #: deliveries are purged (``retention``), for the public register (``transparency``).
    reached = models.PositiveIntegerField(
        _("appareils atteints"), default=0, db_default=0, editable=False
    )
    first_sent_at = models.DateTimeField(_("premier envoi"), null=True, blank=True, editable=False)
    #: A drill (the item's ``exercise`` flag): texts prefixed EXERCICE, and its deliveries can
    #: only be test devices (``audience.drill_only``, applied again when they are inserted).
    exercise = models.BooleanField(_("exercice"), default=False, db_default=False)
    #: When the transaction that created it committed (the publication's commit): the start of
    #: the delivery report's clock (``apps.alerts``). Empty for rows made before it existed.
    committed_at = models.DateTimeField(_("validée le"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True, db_index=True)

    # Creation (who triggered it, for which item, to how many devices) and the first send
    # (``services.sending``). Not the opens counter (not a change), nor the key (a staff test
    # push names its device there, which erasure must not leave behind in the trail).
    history = audited(excluded=("opens", "key"))
    #: Device counts: rounded and masked in the trail's export, as on every staff page.
    audit_masked_counts: ClassVar[tuple[str, ...]] = ("targeted", "reached")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        permissions = [("send_test_push", _("Peut envoyer une notification de test"))]
        indexes = [models.Index(fields=["item_type", "item_id"], name="notification_item")]

    def __str__(self) -> str:
        text = self.text_for("fr")
        return f"{self.get_kind_display()} : {text['title']}"

    def text_for(self, language: str) -> dict[str, str]:
        """Title and body in ``language``, falling back to French, then to any language."""
        texts: dict[str, Any] = self.texts or {}
        chosen = texts.get(language) or texts.get("fr") or next(iter(texts.values()), None)
        return {"title": (chosen or {}).get("title", ""), "body": (chosen or {}).get("body", "")}


class Delivery(models.Model):
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: Why the device was targeted: ``{"place": "home", "place_name": "", "distance_m": 300}``,
    #: ``{"area": "Croix-Rousse"}``, ``{"category": "Culture"}``, ``{"urgency": 2}``,
    #: ``{"saved": true}``.
    why = models.JSONField(default=dict, blank=True)
    #: Not before this time: end of quiet hours, or a retry's backoff.
    not_before = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    gdpr_export_exclude: ClassVar[tuple[str, ...]] = ("error_code",)

    class Meta:
        ordering = ["id"]
        verbose_name = _("envoi")
        verbose_name_plural = _("envois")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "device"], name="delivery_notification_device"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "held",
                        "sending",
                        "sent",
                        "failed",
                        "skipped",
                    ]
                ),
                name="delivery_status_valid",
            ),
        ]
        indexes = [
            # The sweeper and the statistics: rows still in flight, by status.
            models.Index(
                fields=["status", "not_before"],
                name="delivery_open",
                condition=Q(status__in=["pending", "held", "sending"]),
            ),
            # The daily cap and /me/notifications/: a device's sent pushes by time.
            models.Index(fields=["device", "sent_at"], name="delivery_device_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.device_id}: {self.status}"

    def gdpr_export_extra(self) -> dict[str, Any]:
        """What the push said and what it was about (``apps.residents.gdpr``)."""
        notification = self.notification
        return {
            "kind": notification.kind,
            "item_type": notification.item_type or None,
            "item_id": notification.item_id,
            "texts": notification.texts,
        }


class OpenTicket(models.Model):
    """A single-use ticket to count one open of a push, with nothing that names the device.

    Each push about an item carries a random ticket in its data (``open_ticket``); only the
    SHA-256 of the tickets of pushes actually handed to FCM is stored, in a shuffled bulk
    insert, with no device, no delivery and no time. When the app reports an open, the ticket
    is deleted and ``Notification.opens`` goes up by one: a ticket counts once, and what is
    left in the database (a counter) cannot say who opened. The ticket itself lives only in
    the push, on the phone. Tickets of notifications older than ``NOTIFY_OPEN_WINDOW_DAYS``
    are purged (``retention``).
    """

    digest = models.BinaryField(primary_key=True, max_length=32)
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="+", db_index=True
    )

    class Meta:
        verbose_name = _("ticket d'ouverture")
        verbose_name_plural = _("tickets d'ouverture")
        default_permissions = ()

    def __str__(self) -> str:
        return f"ticket of {self.notification_id}"
