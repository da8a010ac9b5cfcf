"""Roadworks (travaux): periods, road state, impacted modes, restrictions and detours.

Names follow Open511 and WZDx (docs/architecture.md, "Reference facts") so that an export is a
mapping, not a rewrite:
``road_state`` is Open511 ``state``, ``severity`` Open511 ``severity``, ``restrictions`` WZDx
``restrictions[]`` {type, value, unit}, ``road_names`` WZDx ``road_names``; the impacted modes
are Open511 ``impacted_systems`` plus the bus lines French cities ask for.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable
from datetime import date, datetime
from typing import ClassVar

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.geo import WGS84, IsValidGeometry
from apps.core.item_types import ItemType
from apps.core.models import ContentQuerySet, PublishableContent, audited


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


class VehicleImpact(models.TextChoices):
    """WZDx 4.2 ``VehicleImpact``: the detail of ``road_state`` a WZDx feed carries."""

    ALL_LANES_CLOSED = "all-lanes-closed", _("Toutes voies fermées")
    SOME_LANES_CLOSED = "some-lanes-closed", _("Voies fermées")
    SOME_LANES_CLOSED_MERGE_LEFT = "some-lanes-closed-merge-left", _("Rabattement à gauche")
    SOME_LANES_CLOSED_MERGE_RIGHT = "some-lanes-closed-merge-right", _("Rabattement à droite")
    SOME_LANES_CLOSED_SPLIT = "some-lanes-closed-split", _("Voies fermées, circulation scindée")
    ALL_LANES_OPEN = "all-lanes-open", _("Toutes voies ouvertes")
    ALL_LANES_OPEN_SHIFT_LEFT = "all-lanes-open-shift-left", _("Voies déportées à gauche")
    ALL_LANES_OPEN_SHIFT_RIGHT = "all-lanes-open-shift-right", _("Voies déportées à droite")
    ALTERNATING_ONE_WAY = "alternating-one-way", _("Alternat")
    FLAGGING = "flagging", _("Alternat manuel (piquets K10)")
    TEMPORARY_TRAFFIC_SIGNAL = "temporary-traffic-signal", _("Feux de chantier")
    UNKNOWN = "unknown", _("Inconnu")


#: Which WZDx vehicle impacts detail each road state; the first is the plain one.
ROAD_STATE_IMPACTS: dict[str, tuple[str, ...]] = {
    RoadState.CLOSED: (VehicleImpact.ALL_LANES_CLOSED,),
    RoadState.SOME_LANES_CLOSED: (
        VehicleImpact.SOME_LANES_CLOSED,
        VehicleImpact.SOME_LANES_CLOSED_MERGE_LEFT,
        VehicleImpact.SOME_LANES_CLOSED_MERGE_RIGHT,
        VehicleImpact.SOME_LANES_CLOSED_SPLIT,
    ),
    RoadState.SINGLE_LANE_ALTERNATING: (
        VehicleImpact.ALTERNATING_ONE_WAY,
        VehicleImpact.FLAGGING,
        VehicleImpact.TEMPORARY_TRAFFIC_SIGNAL,
    ),
    RoadState.ALL_LANES_OPEN: (
        VehicleImpact.ALL_LANES_OPEN,
        VehicleImpact.ALL_LANES_OPEN_SHIFT_LEFT,
        VehicleImpact.ALL_LANES_OPEN_SHIFT_RIGHT,
        VehicleImpact.UNKNOWN,
    ),
}


class Direction(models.TextChoices):
    """WZDx 4.2 ``Direction`` of travel affected; ``undefined`` for both ways of a street."""

    UNDEFINED = "undefined", _("Les deux sens")
    NORTHBOUND = "northbound", _("Vers le nord")
    EASTBOUND = "eastbound", _("Vers l'est")
    SOUTHBOUND = "southbound", _("Vers le sud")
    WESTBOUND = "westbound", _("Vers l'ouest")
    INNER_LOOP = "inner-loop", _("Boucle intérieure")
    OUTER_LOOP = "outer-loop", _("Boucle extérieure")
    UNKNOWN = "unknown", _("Inconnu")


class LaneType(models.TextChoices):
    """WZDx 4.2 ``LaneType``."""

    GENERAL = "general", _("Voie de circulation")
    EXIT_LANE = "exit-lane", _("Voie de sortie")
    EXIT_RAMP = "exit-ramp", _("Bretelle de sortie")
    ENTRANCE_LANE = "entrance-lane", _("Voie d'insertion")
    ENTRANCE_RAMP = "entrance-ramp", _("Bretelle d'entrée")
    SIDEWALK = "sidewalk", _("Trottoir")
    BIKE_LANE = "bike-lane", _("Piste cyclable")
    SHOULDER = "shoulder", _("Accotement")
    PARKING = "parking", _("Stationnement")
    MEDIAN = "median", _("Terre-plein central")
    TWO_WAY_CENTER_TURN_LANE = "two-way-center-turn-lane", _("Voie centrale de tourne-à-gauche")
    CENTER_LEFT_TURN_LANE = "center-left-turn-lane", _("Voie de tourne-à-gauche")


class LaneStatus(models.TextChoices):
    """WZDx 4.2 ``LaneStatus``."""

    OPEN = "open", _("Ouverte")
    CLOSED = "closed", _("Fermée")
    SHIFT_LEFT = "shift-left", _("Déportée à gauche")
    SHIFT_RIGHT = "shift-right", _("Déportée à droite")
    MERGE_LEFT = "merge-left", _("Rabattement à gauche")
    MERGE_RIGHT = "merge-right", _("Rabattement à droite")
    ALTERNATING_FLOW = "alternating-flow", _("Alternat")


MAX_LANES = 20


def validate_lanes(value: object) -> None:
    """WZDx lanes ``[{order, type, status, restrictions?}]``, at most ``MAX_LANES``."""
    if not isinstance(value, list) or len(value) > MAX_LANES:
        raise ValidationError(_("Les voies sont une liste (au plus %(n)d).") % {"n": MAX_LANES})
    for lane in value:
        if (
            not isinstance(lane, dict)
            or set(lane) - {"order", "type", "status", "restrictions"}
            or not isinstance(lane.get("order"), int)
            or isinstance(lane.get("order"), bool)
            or not 1 <= lane["order"] <= 99
            or lane.get("type") not in LaneType.values
            or lane.get("status") not in LaneStatus.values
        ):
            raise ValidationError(_("Voie attendue : {order, type, status, restrictions?}."))
        validate_restrictions(lane.get("restrictions", []))


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
    """WZDx 4.2 ``RestrictionType``: the whole list, so that an export or import never guesses.

    A speed limit is ``reduced_speed_limit_kph``, a closed footway the ``sidewalk`` impact, and
    "road closed except access" is ``local-access-only`` (docs/interop.md).
    """

    NO_TRUCKS = "no-trucks", _("Interdit aux poids lourds")
    TRAVEL_PEAK_HOURS_ONLY = "travel-peak-hours-only", _("Ouvert aux heures de pointe")
    HOV_3 = "hov-3", _("Réservé au covoiturage (3 personnes)")
    HOV_2 = "hov-2", _("Réservé au covoiturage (2 personnes)")
    NO_PARKING = "no-parking", _("Stationnement interdit")
    REDUCED_WIDTH = "reduced-width", _("Largeur limitée")
    REDUCED_HEIGHT = "reduced-height", _("Hauteur limitée")
    REDUCED_LENGTH = "reduced-length", _("Longueur limitée")
    REDUCED_WEIGHT = "reduced-weight", _("Tonnage limité")
    AXLE_LOAD_LIMIT = "axle-load-limit", _("Charge à l'essieu limitée")
    GROSS_WEIGHT_LIMIT = "gross-weight-limit", _("Poids total limité")
    TOWING_PROHIBITED = "towing-prohibited", _("Remorquage interdit")
    PERMITTED_OVERSIZE_LOADS_PROHIBITED = (
        "permitted-oversize-loads-prohibited",
        _("Convois exceptionnels interdits"),
    )
    LOCAL_ACCESS_ONLY = "local-access-only", _("Accès riverains uniquement")
    NO_PASSING = "no-passing", _("Dépassement interdit")


class RestrictionUnit(models.TextChoices):
    """WZDx 4.2 ``UnitOfMeasurement``; Quartier writes centimetres and kilograms."""

    CENTIMETERS = "centimeters", _("cm")
    KILOGRAMS = "kilograms", _("kg")
    FEET = "feet", _("pieds")
    INCHES = "inches", _("pouces")
    POUNDS = "pounds", _("livres")
    TONS = "tons", _("tonnes courtes (US)")


LENGTH_UNITS = frozenset(
    {RestrictionUnit.CENTIMETERS, RestrictionUnit.FEET, RestrictionUnit.INCHES}
)
WEIGHT_UNITS = frozenset({RestrictionUnit.KILOGRAMS, RestrictionUnit.POUNDS, RestrictionUnit.TONS})
#: Which unit family a restriction's value is measured in; the other types take no value.
RESTRICTION_UNIT_FAMILY = {
    RestrictionType.REDUCED_WIDTH: LENGTH_UNITS,
    RestrictionType.REDUCED_HEIGHT: LENGTH_UNITS,
    RestrictionType.REDUCED_LENGTH: LENGTH_UNITS,
    RestrictionType.REDUCED_WEIGHT: WEIGHT_UNITS,
    RestrictionType.AXLE_LOAD_LIMIT: WEIGHT_UNITS,
    RestrictionType.GROSS_WEIGHT_LIMIT: WEIGHT_UNITS,
}
RESTRICTION_UNITS = frozenset(RestrictionUnit.values)
#: Values of the vocabulary before WZDx 4.2 was followed to the letter, and what replaced them.
RETIRED_RESTRICTIONS = {
    "reduced-speed": "reduced_speed_limit_kph",
    "pedestrian-detour": "impacts: sidewalk",
    "no-through-traffic": "local-access-only",
}
RETIRED_UNITS = {"m": "centimeters", "t": "kilograms", "km/h": "reduced_speed_limit_kph"}


def restriction_error(entry: object) -> tuple[str, str] | None:
    """Why ``entry`` is not a WZDx restriction ``{type, value?, unit?}``: ``(field, message)``."""
    if not isinstance(entry, dict) or set(entry) - {"type", "value", "unit"}:
        return "type", str(_("Restriction attendue : {type, value, unit}."))
    kind, unit = entry.get("type"), entry.get("unit")
    if kind in RETIRED_RESTRICTIONS:
        return "type", str(
            _("« %(old)s » n'est plus un type de restriction : utilisez %(new)s.")
        ) % {
            "old": kind,
            "new": RETIRED_RESTRICTIONS[kind],
        }
    if kind not in RestrictionType.values:
        return "type", str(_("Type de restriction inconnu : %(type)s")) % {"type": kind}
    value = entry.get("value")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        return "value", str(_("La valeur d'une restriction est un nombre."))
    if unit is not None and unit not in RESTRICTION_UNITS:
        if unit in RETIRED_UNITS:
            return "unit", str(_("Unité « %(old)s » retirée : utilisez %(new)s.")) % {
                "old": unit,
                "new": RETIRED_UNITS[unit],
            }
        return "unit", str(_("Unité inconnue : %(unit)s")) % {"unit": unit}
    if (value is None) != (unit is None):
        return "unit", str(_("Une valeur de restriction va avec son unité."))
    family = RESTRICTION_UNIT_FAMILY.get(kind)
    if unit is not None and (family is None or unit not in family):
        return "unit", str(_("Unité %(unit)s impossible pour %(type)s.")) % {
            "unit": unit,
            "type": kind,
        }
    return None


def validate_restrictions(value: object) -> None:
    """A list of WZDx restrictions ``{type, value?, unit?}`` (value and unit go together)."""
    if not isinstance(value, list):
        raise ValidationError(_("Les restrictions sont une liste."))
    for entry in value:
        error = restriction_error(entry)
        if error:
            raise ValidationError(error[1])


def validate_road_names(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(_("Les voies sont une liste de noms."))


weekdays_validator = RegexValidator(
    r"^1?2?3?4?5?6?7?$", _("Jours ISO 1 (lundi) à 7 (dimanche), dans l'ordre, ex. 12345.")
)


def _or(conditions: Iterable[Q]) -> Q:
    return functools.reduce(operator.or_, conditions)


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

    type_code = ItemType.WORKS.code
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
    vehicle_impact = models.CharField(
        _("impact sur la circulation (WZDx)"),
        max_length=32,
        choices=VehicleImpact.choices,
        blank=True,
        help_text=_("Détail facultatif de la circulation ; vide = la valeur simple."),
    )
    direction = models.CharField(
        _("sens concerné"), max_length=12, choices=Direction.choices, default=Direction.UNDEFINED
    )
    lanes_closed = models.PositiveSmallIntegerField(_("voies fermées"), null=True, blank=True)
    lanes = models.JSONField(
        _("voies (WZDx)"),
        default=list,
        blank=True,
        validators=[validate_lanes],
        help_text=_('Ex. [{"order": 1, "type": "general", "status": "closed"}]'),
    )
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
        help_text=_(
            'Liste WZDx 4.2, ex. [{"type": "reduced-height", "value": 350, "unit": "centimeters"}]'
        ),
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
                condition=Q(vehicle_impact="")
                | _or(
                    Q(road_state=str(state), vehicle_impact__in=[str(i) for i in impacts])
                    for state, impacts in ROAD_STATE_IMPACTS.items()
                ),
                name="works_vehicle_impact_matches_road_state",
                violation_error_message=_("L'impact WZDx ne correspond pas à la circulation."),
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

    history = audited()

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
