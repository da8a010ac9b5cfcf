"""The publishable geo-content base shared by news, roadworks and events (architecture.md §3)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.gis.db import models
from django.db import migrations
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.geo import WGS84, IsValidGeometry, MetreValue, within_m


class Status(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SCHEDULED = "scheduled", _("Programmé")
    PUBLISHED = "published", _("Publié")
    ARCHIVED = "archived", _("Archivé")


class Urgency(models.IntegerChoices):
    """Ordered levels: comparisons (``urgency >= IMPORTANT``) are meaningful."""

    INFO = 0, _("Information")
    IMPORTANT = 1, _("Important")
    ALERT = 2, _("Alerte")

    @property
    def code(self) -> str:
        """The API spelling: ``info``, ``important``, ``alert``."""
        return self.name.lower()

    @classmethod
    def from_code(cls, code: str) -> Urgency:
        try:
            return cls[code.upper()]
        except KeyError:
            raise ValueError(f"unknown urgency {code!r}") from None

    @classmethod
    def codes(cls) -> list[str]:
        return [member.name.lower() for member in cls]


class ContentQuerySet(models.QuerySet):
    """Query vocabulary of every content type."""

    def over_q(self, now: datetime) -> Q | None:
        """Rows that are over at ``now`` (an ended event, finished works); types override it."""
        return None

    def public(self, at: datetime | None = None) -> ContentQuerySet:
        """Published, publication time reached, not expired, not over: what the public sees."""
        now = at or timezone.now()
        queryset = self.filter(
            Q(publish_at__isnull=True) | Q(publish_at__lte=now),
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            status=Status.PUBLISHED,
        )
        over = self.over_q(now)
        return queryset.exclude(over) if over is not None else queryset

    def near(self, geometry, m: MetreValue) -> ContentQuerySet:
        """Items whose geometry lies within ``m`` metres of ``geometry`` (index on PostGIS)."""
        return within_m(self, geometry, m)

    def editable_by(self, user) -> ContentQuerySet:
        """Items of the organizations ``user`` belongs to (everything for superusers)."""
        if user.is_superuser:
            return self
        return self.filter(organization__memberships__user=user)

    def due_for_publication(self, at: datetime | None = None) -> ContentQuerySet:
        return self.filter(status=Status.SCHEDULED, publish_at__lte=at or timezone.now())

    def due_for_archiving(self, at: datetime | None = None) -> ContentQuerySet:
        """Published items that expired or are over."""
        now = at or timezone.now()
        gone = Q(expires_at__lte=now)
        over = self.over_q(now)
        return self.filter(gone | over if over is not None else gone, status=Status.PUBLISHED)


def public_order_index(table: str) -> migrations.RunPython:
    """Migration: index the lists' default order, published rows only (PostgreSQL).

    ``ORDER BY publish_at DESC NULLS LAST, id DESC`` (news and works by default, events on
    request) then reads the first page in index order instead of sorting every live item
    (bench/README.md). SpatiaLite cannot index ``NULLS LAST``; there the
    lists stay small.
    """
    name = f"{table.split('_')[0]}_public_order"

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
                "(publish_at DESC NULLS LAST, id DESC) WHERE status = 'published'"
            )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return migrations.RunPython(forwards, backwards, elidable=False)


class PublishableContent(models.Model):
    """Abstract base: translated text, taxonomy, geometry, areas, lifecycle, urgency, image.

    ``geometry`` is any geometry type in SRID 4326, empty for city-wide items. ``areas`` is
    computed from it by ``apps.core.services.content_areas_refresh``; never set it by hand.
    """

    #: The API type code and path segment: ``news``, ``works`` or ``events``.
    type_code: ClassVar[str]
    #: Fields whose change on a published item is material (an update push replaces the first).
    material_fields: ClassVar[tuple[str, ...]] = ("geometry",)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("titre"), max_length=200)
    summary = models.CharField(
        _("chapeau"),
        max_length=500,
        blank=True,
        help_text=_("Une ou deux phrases : reprises dans les listes et les notifications."),
    )
    body = models.TextField(_("texte"), blank=True)
    category = models.ForeignKey(
        "core.Category",
        on_delete=models.PROTECT,
        related_name="%(app_label)s_items",
        verbose_name=_("catégorie"),
    )
    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.PROTECT,
        related_name="%(app_label)s_items",
        verbose_name=_("organisation"),
    )
    geometry = models.GeometryField(
        _("localisation"),
        srid=WGS84,
        null=True,
        blank=True,
        help_text=_("Point, ligne ou zone. Laisser vide pour une information sur toute la ville."),
    )
    areas = models.ManyToManyField(
        "core.Area",
        blank=True,
        related_name="%(app_label)s_items",
        verbose_name=_("zones concernées"),
        help_text=_("Calculées à partir de la localisation."),
    )
    status = models.CharField(
        _("statut"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    publish_at = models.DateTimeField(_("publication le"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True, editable=False)
    urgency = models.PositiveSmallIntegerField(
        _("urgence"), choices=Urgency.choices, default=Urgency.INFO
    )
    notify = models.BooleanField(
        _("notifier"),
        default=False,
        help_text=_("Envoyer une notification aux habitants concernés à la publication."),
    )
    exercise = models.BooleanField(
        _("exercice"),
        default=False,
        db_default=False,  # bulk loaders (bench city) insert rows in SQL
        help_text=_(
            "Alerte d'exercice : textes préfixés « EXERCICE », envoyée aux seuls appareils "
            "inscrits comme appareils de test (docs/alerts.md)."
        ),
    )
    image = models.ImageField(_("image"), upload_to="content/%Y/%m/", blank=True)
    image_alt = models.CharField(_("texte alternatif de l'image"), max_length=250, blank=True)
    image_credit = models.CharField(_("crédit de l'image"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True, db_index=True)

    objects = ContentQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-publish_at", "-id"]
        indexes = [
            models.Index(fields=["status", "publish_at"], name="%(app_label)s_status_pub"),
            models.Index(fields=["status", "expires_at"], name="%(app_label)s_status_exp"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(publish_at__isnull=True)
                | Q(expires_at__gt=F("publish_at")),
                name="%(app_label)s_expires_after_publish",
                violation_error_message=_("La date d'expiration doit suivre la publication."),
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.SCHEDULED) | Q(publish_at__isnull=False),
                name="%(app_label)s_scheduled_has_date",
                violation_error_message=_("Un contenu programmé doit avoir une date."),
            ),
            models.CheckConstraint(
                condition=IsValidGeometry("geometry"),
                name="%(app_label)s_geometry_valid",
                violation_error_message=_("La géométrie n'est pas valide."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_over(self, at: datetime | None = None) -> bool:
        """Whether the item is over (ended event, finished works); mirrors ``over_q``."""
        return False

    @property
    def is_public(self) -> bool:
        now = timezone.now()
        return (
            self.status == Status.PUBLISHED
            and (self.publish_at is None or self.publish_at <= now)
            and (self.expires_at is None or self.expires_at > now)
            and not self.is_over(now)
        )

    @property
    def urgency_code(self) -> str:
        return Urgency(self.urgency).code
