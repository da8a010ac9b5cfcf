"""Publishers (organizations and their staff), territory (areas) and categories."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.geo import WGS84, IsValidGeometry

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Couleur au format #RRGGBB."))


class OrganizationQuerySet(models.QuerySet):
    def editable_by(self, user) -> OrganizationQuerySet:
        """Organizations whose content ``user`` may edit (all of them for superusers)."""
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user)


class Organization(models.Model):
    """A publisher: the city, one of its services, the metropole, a utility."""

    class Kind(models.TextChoices):
        CITY = "city", _("Ville")
        SERVICE = "service", _("Service municipal")
        INTERCOMMUNALITY = "intercommunality", _("Intercommunalité")
        UTILITY = "utility", _("Concessionnaire / opérateur")
        ASSOCIATION = "association", _("Association")
        OTHER = "other", _("Autre")

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.SERVICE)
    website = models.URLField(_("site web"), blank=True)
    email = models.EmailField(_("courriel de contact"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="organizations",
        blank=True,
        verbose_name=_("membres"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff user's membership of an organization, with their role in it.

    A *rédacteur* writes the organization's content and submits it for publication; a
    *validateur* publishes it, and approves or refuses what was submitted
    (``apps.core.approval_rule``).
    """

    class Role(models.TextChoices):
        EDITOR = "editor", _("Rédacteur")
        VALIDATOR = "validator", _("Validateur")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")

    def __str__(self) -> str:
        return f"{self.user} · {self.organization}"


class AreaKind(models.TextChoices):
    COMMUNE = "commune", _("Commune")
    DISTRICT = "district", pgettext_lazy("type de zone", "Quartier")


class Area(models.Model):
    """A commune or a district, as a polygon; content is tagged with the areas it touches."""

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=AreaKind.choices)
    code = models.CharField(_("code (INSEE, IRIS…)"), max_length=20, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("zone parente"),
    )
    geometry = models.MultiPolygonField(_("contour"), srid=WGS84)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [
            models.CheckConstraint(
                condition=IsValidGeometry("geometry"), name="area_geometry_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A theme residents follow (culture, mobility, works…); names are translated."""

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    colour = models.CharField(
        _("couleur"), max_length=7, default="#1f6feb", validators=[hex_colour]
    )
    icon = models.CharField(
        _("icône"), max_length=40, blank=True, help_text=_("Nom d'icône Material Symbols.")
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")

    def __str__(self) -> str:
        return self.name
