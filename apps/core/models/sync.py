"""Tombstones: what left the public set, so API clients syncing with ``updated_since`` learn it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tombstone(models.Model):
    """An item that was deleted, archived or unpublished; removed again if it comes back."""

    class Reason(models.TextChoices):
        DELETED = "deleted", _("supprimé")
        ARCHIVED = "archived", _("archivé")
        UNPUBLISHED = "unpublished", _("dépublié")

    item_type = models.CharField(max_length=10)
    item_id = models.BigIntegerField()
    reason = models.CharField(max_length=12, choices=Reason.choices)
    removed_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item_type", "item_id"], name="tombstone_unique_item")
        ]
        indexes = [models.Index(fields=["item_type", "removed_at"], name="tombstone_type_time")]
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")

    def __str__(self) -> str:
        return f"{self.item_type}/{self.item_id} {self.reason}"
