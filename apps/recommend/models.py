"""The interaction log: what residents did with which item, where and when (architecture.md §7).

Stored compactly: small integer codes (``apps.recommend.codes``), the item as (type code,
bigint id) without a foreign key (items may be deleted; the log outlives them until the
retention purge), an aware timestamp. Rows exist only for devices that accepted
personalization. Indexes:

- ``(device, event_id)`` unique: retried batches are harmless; also serves per-device reads
  (affinities) by its leading column;
- ``at``: the training query's time split, popularity windows and the retention purge;
- ``(item_type, item_id, action, context)``: per-item statistics ("opens from a push").

``ItemPopularity`` is an aggregate of that log, refreshed by a beat task: positive interactions
per item over the last 7 days, so that the feed reads one indexed row per candidate instead of
aggregating the log on every request.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.item_types import ItemType
from apps.recommend.codes import Action, Context
from apps.residents.models import Device


class Interaction(models.Model):
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    event_id = models.UUIDField(help_text=_("Identifiant donné par l'application (idempotence)."))
    item_type = models.PositiveSmallIntegerField(choices=ItemType.choices)
    item_id = models.BigIntegerField()
    action = models.PositiveSmallIntegerField(choices=Action.choices)
    context = models.PositiveSmallIntegerField(choices=Context.choices)
    position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Rang dans la liste affichée (0 = premier).")
    )
    at = models.DateTimeField()
    # Online evaluation (docs/recommender.md, "Online evaluation"): on an interleaved feed page,
    # the random key of the page's snapshot, the team that placed the item (1 the served ranker,
    # 2 the reference) and the pair "<served>|<reference>", from the item's ``ranker`` token.
    # Null for every other interaction; cleared once the day is counted.
    interleave_request = models.CharField(max_length=24, null=True, blank=True)
    interleave_team = models.PositiveSmallIntegerField(null=True, blank=True)
    interleave_pair = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.UniqueConstraint(fields=["device", "event_id"], name="interaction_event_unique")
        ]
        indexes = [
            models.Index(fields=["at"], name="interaction_at"),
            models.Index(
                fields=["item_type", "item_id", "action", "context"], name="interaction_item_stats"
            ),
            models.Index(
                fields=["at"],
                name="interaction_interleaved_at",
                condition=models.Q(interleave_request__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.get_item_type_display()}/{self.item_id}"


class ItemPopularity(models.Model):
    """Positive interactions (open, save, like, share) of everyone with one item in 7 days.

    Rebuilt as a whole by ``services.item_popularity_refresh`` (beat, every few minutes);
    items without a positive have no row. ``(item_type, item_id)`` is unique (the feed's
    per-candidate lookup); ``(item_type, -positives)`` serves the "trending" candidates.
    """

    item_type = models.PositiveSmallIntegerField(choices=ItemType.choices)
    item_id = models.BigIntegerField()
    positives = models.PositiveIntegerField()
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("popularité")
        verbose_name_plural = _("popularités")
        constraints = [
            models.UniqueConstraint(fields=["item_type", "item_id"], name="popularity_item_unique")
        ]
        indexes = [
            models.Index(fields=["item_type", "-positives"], name="popularity_trending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_item_type_display()}/{self.item_id}: {self.positives}"


class OnlineComparison(models.Model):
    """One day's interleaving counters of a ranker against its reference (no device data).

    ``impressions``: interleaved feed requests of consenting devices with at least one logged
    interaction that day; ``wins``/``losses``: requests where the served ranker's items got
    more/fewer clicks (opens) than the reference's; ``ties``: as many, at least one each.
    Rebuilt from the log by ``services.online_comparisons_aggregate`` (idempotent per day).
    """

    day = models.DateField(_("jour"))
    ranker = models.CharField(_("classement servi"), max_length=40)
    reference = models.CharField(_("référence"), max_length=40)
    wins = models.PositiveIntegerField(_("victoires"), default=0, db_default=0)
    losses = models.PositiveIntegerField(_("défaites"), default=0, db_default=0)
    ties = models.PositiveIntegerField(_("égalités"), default=0, db_default=0)
    impressions = models.PositiveIntegerField(_("requêtes entrelacées"), default=0, db_default=0)
    counted_at = models.DateTimeField(_("compté le"))

    class Meta:
        verbose_name = _("évaluation en ligne (jour)")
        verbose_name_plural = _("évaluation en ligne")
        ordering = ["-day", "ranker", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "ranker", "reference"], name="online_comparison_day_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.ranker} / {self.reference}"


class RankerRollback(models.Model):
    """A model taken out of service because it did significantly worse online."""

    at = models.DateTimeField(_("le"))
    version = models.CharField(_("modèle retiré"), max_length=40)
    reference = models.CharField(_("comparé à"), max_length=40)
    restored = models.CharField(_("classement servi désormais"), max_length=40)
    wins = models.PositiveIntegerField(_("victoires"))
    losses = models.PositiveIntegerField(_("défaites"))
    ties = models.PositiveIntegerField(_("égalités"))
    p_value = models.FloatField(_("p-valeur"))
    reason = models.TextField(_("motif"))

    class Meta:
        verbose_name = _("retour arrière d'un modèle")
        verbose_name_plural = _("retours arrière de modèles")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.version} → {self.restored}"
