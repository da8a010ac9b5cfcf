"""The audit trail's history tables: what every historised model records besides its fields.

django-simple-history gives each audited model a ``Historical<Model>`` table (one row per
creation, change or deletion, with ``history_user`` and ``history_date``). ``AuditedHistory`` is
their common base: who acted when no staff user did (an import, a scheduled task, an API key)
and the staff user's name and role *at the time*, kept when the account is later deleted.
``audited()`` is the one way models declare their history (docs/privacy.md, "Audit trail").
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

#: Never recorded: bookkeeping that changes on every save and says nothing about content.
ALWAYS_EXCLUDED = ("updated_at",)


class AuditedHistory(models.Model):
    """Abstract base of every history table (``HistoricalRecords(bases=[AuditedHistory])``)."""

    history_actor = models.CharField(
        _("auteur"),
        max_length=200,
        blank=True,
        default="",
        db_default="",  # bulk loaders may insert history rows in SQL
        help_text=_("Nom de l'agent, ou l'automate (import, tâche, clé d'API) qui a agi."),
    )
    history_role = models.CharField(_("rôle"), max_length=60, blank=True, default="", db_default="")

    class Meta:
        abstract = True


def audited(*, excluded: tuple[str, ...] = (), **options: Any) -> HistoricalRecords:
    """The history manager of an audited model: ``history = audited()`` in its body."""
    return HistoricalRecords(
        bases=[AuditedHistory],
        excluded_fields=[*ALWAYS_EXCLUDED, *excluded],
        cascade_delete_history=False,
        **options,
    )


def audited_translated(model: type[models.Model], *, excluded: tuple[str, ...] = ()) -> None:
    """Give a model translated by django-modeltranslation its history, from its
    ``translation.py`` after ``@register``: the history table then has ``title_fr``,
    ``title_en``… (a ``history = audited()`` in the class body would be made before them)."""
    import simple_history

    simple_history.register(
        model,
        bases=[AuditedHistory],
        excluded_fields=[*ALWAYS_EXCLUDED, *excluded],
        cascade_delete_history=False,
    )
