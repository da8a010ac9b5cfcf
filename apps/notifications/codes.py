"""The vocabulary of notifications (kinds, delivery statuses, reasons): choices, no model, so
that the pure decision core (``apps.notifications.policy``) shares it without the ORM."""

from __future__ import annotations

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Kind(TextChoices):
    NEW = "new", _("Publication")
    UPDATE = "update", _("Mise à jour")
    REMINDER = "reminder", _("Rappel")
    DIGEST = "digest", _("Résumé")
    TEST = "test", _("Test")


class DeliveryStatus(TextChoices):
    PENDING = "pending", _("En attente")
    HELD = "held", _("Retenue (heures calmes)")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyée")
    FAILED = "failed", _("Échec")
    SKIPPED = "skipped", _("Non envoyée")


class Reason(TextChoices):
    """Why a delivery failed or was skipped (``Delivery.reason``)."""

    DEAD_TOKEN = "dead_token", _("Jeton invalide")
    INVALID_PAYLOAD = "invalid_payload", _("Message refusé")
    AUTH_ERROR = "auth_error", _("Authentification FCM refusée")
    RETRIES_EXHAUSTED = "retries_exhausted", _("Trop de tentatives")
    NO_TOKEN = "no_token", _("Plus de jeton actif")
    DISABLED = "disabled", _("Notifications désactivées")
    CAPPED = "capped", _("Plafond quotidien (résumé)")
    BUDGET = "budget", _("Budget hebdomadaire (résumé)")
    EXPIRED = "expired", _("Contenu retiré avant l'envoi")
