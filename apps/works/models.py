"""Roadworks (travaux): periods, road state, impacted modes, restrictions and detours.

Names follow Open511 and WZDx (REFERENCE.md) so that an export is a mapping, not a rewrite:
``road_state`` is Open511 ``state``, ``severity`` Open511 ``severity``, ``restrictions`` WZDx
``restrictions[]`` {type, value, unit}, ``road_names`` WZDx ``road_names``; the impacted modes
are Open511 ``impacted_systems`` plus the bus lines French cities ask for.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.geo import WGS84, IsValidGeometry
from apps.core.models import ContentQuerySet, PublishableContent


class WorkType(models.TextChoices):
    ROAD_CONSTRUCTION = "road_construction", _("Aménagement de voirie")
    ROAD_MAINTENANCE = "road_maintenance", _("Entretien de voirie")
    UTILITY = "utility", _("Réseaux (eau, gaz, électricité, fibre)")
    BUILDING = "building", _("Chantier de construction")
    GREEN_SPACE = "green_space", _("Espaces verts, élagage")
    OTHER = "other", _("Autre")


class Severity(models.TextChoices):
    MINOR = "minor", _("Faible")
    MODERATE = "moderate", _("Modérée")
    MAJOR = "major", _("Forte")


class RoadState(models.TextChoices):
    """Open511 ``state``."""

    CLOSED = "closed", _("Route fermée")
    SOME_LANES_CLOSED = "some_lanes_closed", _("Voies réduites")
    SINGLE_LANE_ALTERNATING = "single_lane_alternating", _("Circulation alternée")
    ALL_LANES_OPEN = "all_lanes_open", _("Circulation maintenue")


class WorkStatus(models.TextChoices):
    PLANNED = "planned", _("Prévu")
    ACTIVE = "active", _("En cours")
    COMPLETED = "completed", _("Terminé")
    CANCELLED = "cancelled", _("Annulé")


class Impact(models.TextChoices):
    """Impacted modes; the model stores one boolean per mode (portable, filterable)."""

    ROAD = "road", _("Chaussée")
    SIDEWALK = "sidewalk", _("Trottoir")
    BIKE_LANE = "bike_lane", _("Piste cyclable")
    PARKING = "parking", _("Stationnement")
    BUS = "bus", _("Bus")


class RestrictionType(models.TextChoices):
    """WZDx ``RestrictionType`` values, plus the parking and access rules of French decrees."""

    NO_TRUCKS = "no-trucks", _("Interdit aux poids lourds")
    REDUCED_WIDTH = "reduced-width", _("Largeur limitée")
    REDUCED_HEIGHT = "reduced-height", _("Hauteur limitée")
    REDUCED_WEIGHT = "reduced-weight", _("Tonnage limité")
    REDUCED_SPEED = "reduced-speed", _("Vitesse réduite")
    NO_PARKING = "no-parking", _("Stationnement interdit")
    LOCAL_ACCESS_ONLY = "local-access-only", _("Accès riverains uniquement")
    NO_THROUGH_TRAFFIC = "no-through-traffic", _("Route barrée sauf accès")
    PEDESTRIAN_DETOUR = "pedestrian-detour", _("Piétons déviés")


RESTRICTION_UNITS = {"m", "t", "km/h"}


def validate_restrictions(value: object) -> None:
    """A list of ``{type, value?, unit?}`` with known types and units."""
    if not isinstance(value, list):
        raise ValidationError(_("Les restrictions sont une liste."))
    for entry in value:
        if not isinstance(entry, dict) or set(entry) - {"type", "value", "unit"}:
            raise ValidationError(_("Restriction attendue : {type, value, unit}."))
        if entry.get("type") not in RestrictionType.values:
            raise ValidationError(
                _("Type de restriction inconnu : %(type)s"), params={"type": entry.get("type")}
            )
        if "value" in entry and not isinstance(entry["value"], int | float):
            raise ValidationError(_("La valeur d'une restriction est un nombre."))
        if "unit" in entry and entry["unit"] not in RESTRICTION_UNITS:
            raise ValidationError(_("Unité inconnue : %(unit)s"), params={"unit": entry["unit"]})


def validate_road_names(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(_("Les voies sont une liste de noms."))


weekdays_validator = RegexValidator(
    r"^1?2?3?4?5?6?7?$", _("Jours ISO 1 (lundi) à 7 (dimanche), dans l'ordre, ex. 12345.")
)


class WorksQuerySet(ContentQuerySet):
    def over_q(self, now: datetime) -> Q:
        return Q(end_at__lte=now)

    def active_on(self, day: date) -> WorksQuerySet:
        """Works running on ``day``: within their dates and, if they have periods, in one."""
        day_start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        day_end = timezone.make_aware(datetime.combine(day, datetime.max.time()))
        in_period = WorksPeriod.objects.filter(
            works=models.OuterRef("pk"),
            start_date__lte=day,
            end_date__gte=day,
            weekdays__contains=str(day.isoweekday()),
        )
        has_period = WorksPeriod.objects.filter(works=models.OuterRef("pk"))
        return (
            self.filter(start_at__lte=day_end, end_at__gte=day_start)
            .exclude(work_status=WorkStatus.CANCELLED)
            .filter(Q(models.Exists(in_period)) | ~Q(models.Exists(has_period)))
        )

    def with_impact(self, impact: str) -> WorksQuerySet:
        return self.filter(**{f"impacts_{impact}": True})


class Works(PublishableContent):
    """A roadwork or a work site on public space; its geometry is usually a line or polygon."""

    type_code = "works"
    material_fields: ClassVar[tuple[str, ...]] = (
        "geometry",
        "start_at",
        "end_at",
        "work_status",
        "road_state",
    )

    work_type = models.CharField(
        _("nature des travaux"), max_length=20, choices=WorkType.choices, default=WorkType.OTHER
    )
    work_status = models.CharField(
        _("état du chantier"),
        max_length=10,
        choices=WorkStatus.choices,
        default=WorkStatus.PLANNED,
        db_index=True,
    )
    severity = models.CharField(
        _("gêne"), max_length=10, choices=Severity.choices, default=Severity.MODERATE
    )
    start_at = models.DateTimeField(_("début"))
    end_at = models.DateTimeField(_("fin"))
    night_work = models.BooleanField(_("travaux de nuit"), default=False)
    road_state = models.CharField(
        _("circulation"),
        max_length=25,
        choices=RoadState.choices,
        default=RoadState.ALL_LANES_OPEN,
    )
    lanes_closed = models.PositiveSmallIntegerField(_("voies fermées"), null=True, blank=True)
    impacts_road = models.BooleanField(_("chaussée"), default=False)
    impacts_sidewalk = models.BooleanField(_("trottoir"), default=False)
    impacts_bike_lane = models.BooleanField(_("piste cyclable"), default=False)
    impacts_parking = models.BooleanField(_("stationnement"), default=False)
    impacts_bus = models.BooleanField(_("bus"), default=False)
    road_names = models.JSONField(
        _("voies concernées"), default=list, blank=True, validators=[validate_road_names]
    )
    restrictions = models.JSONField(
        _("restrictions"),
        default=list,
        blank=True,
        validators=[validate_restrictions],
        help_text=_('Liste WZDx, ex. [{"type": "reduced-height", "value": 3.5, "unit": "m"}]'),
    )
    reduced_speed_limit_kph = models.PositiveSmallIntegerField(
        _("vitesse limitée (km/h)"), null=True, blank=True
    )
    detour_text = models.TextField(_("déviation"), blank=True)
    detour_geometry = models.MultiLineStringField(
        _("tracé de la déviation"), srid=WGS84, null=True, blank=True
    )
    contractor = models.CharField(_("entreprise"), max_length=200, blank=True)

    objects = WorksQuerySet.as_manager()  # type: ignore[misc]

    class Meta(PublishableContent.Meta):
        verbose_name = _("travaux")
        verbose_name_plural = _("travaux")
        constraints = [
            *PublishableContent.Meta.constraints,
            models.CheckConstraint(
                condition=Q(end_at__gte=F("start_at")),
                name="works_end_after_start",
                violation_error_message=_("La fin doit suivre le début."),
            ),
            models.CheckConstraint(
                condition=IsValidGeometry("detour_geometry"),
                name="works_detour_valid",
                violation_error_message=_("Le tracé de déviation n'est pas valide."),
            ),
        ]

    def is_over(self, at: datetime | None = None) -> bool:
        return self.end_at is not None and self.end_at <= (at or timezone.now())

    @property
    def impacted_systems(self) -> list[str]:
        """The impacted modes as codes (``Impact`` values), in a fixed order."""
        return [impact for impact in Impact.values if getattr(self, f"impacts_{impact}")]


class WorksPeriod(models.Model):
    """When the work actually happens (Open511 ``recurring_schedules``).

    Works without periods run continuously from ``start_at`` to ``end_at``. A period whose
    daily end is earlier than its daily start runs overnight.
    """

    works = models.ForeignKey(Works, on_delete=models.CASCADE, related_name="periods")
    start_date = models.DateField(_("du"))
    end_date = models.DateField(_("au"))
    weekdays = models.CharField(
        _("jours"),
        max_length=7,
        default="1234567",
        validators=[weekdays_validator],
        help_text=_("1 = lundi … 7 = dimanche ; ex. 12345 pour les jours ouvrés."),
    )
    daily_start_time = models.TimeField(_("de"), null=True, blank=True)
    daily_end_time = models.TimeField(_("à"), null=True, blank=True)

    class Meta:
        ordering = ["start_date", "id"]
        verbose_name = _("période")
        verbose_name_plural = _("périodes")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="works_period_end_after_start",
                violation_error_message=_("La fin de période doit suivre son début."),
            ),
            models.CheckConstraint(
                condition=Q(daily_start_time__isnull=True, daily_end_time__isnull=True)
                | Q(daily_start_time__isnull=False, daily_end_time__isnull=False),
                name="works_period_hours_pair",
                violation_error_message=_("Indiquez les deux horaires, ou aucun."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date} → {self.end_date}"

    @property
    def is_overnight(self) -> bool:
        return bool(
            self.daily_start_time
            and self.daily_end_time
            and self.daily_end_time <= self.daily_start_time
        )
