"""Events: dates and recurrence, venue, offers, audience, accessibility, status.

Names follow schema.org ``Event``, OpenAgenda and Helsinki Linked Events (docs/architecture.md,
"Reference facts").
``start_at``/``end_at`` are the first occurrence (iCalendar DTSTART/DTEND); ``rrule`` repeats it
(RFC 5545 RRULE) and ``EventOccurrence`` rows of origin ``extra`` add dates by hand. The
service keeps every occurrence materialised in ``EventOccurrence`` so that date filters are
indexed queries, and ``last_end_at`` (the end of the series) says when the event is over.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.geo import WGS84
from apps.core.item_types import ItemType
from apps.core.models import ContentQuerySet, PublishableContent, audited


class EventStatus(models.TextChoices):
    """schema.org ``eventStatus``, plus OpenAgenda's ``full`` (status 5, no schema.org value)."""

    # "Prévu", not "Programmé": that is the publication status of every content.
    SCHEDULED = "scheduled", _("Prévu")
    CANCELLED = "cancelled", _("Annulé")
    POSTPONED = "postponed", _("Reporté (date à venir)")
    RESCHEDULED = "rescheduled", _("Reprogrammé")
    MOVED_ONLINE = "moved_online", _("Déplacé en ligne")
    FULL = "full", _("Complet")


class AttendanceMode(models.TextChoices):
    """schema.org ``eventAttendanceMode`` (OpenAgenda ``attendanceMode`` 1/2/3)."""

    OFFLINE = "offline", _("Sur place")
    ONLINE = "online", _("En ligne")
    MIXED = "mixed", _("Sur place et en ligne")


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Tout public")
    CHILDREN = "children", _("Enfants")
    TEENS = "teens", _("Adolescents")
    FAMILIES = "families", _("Familles")
    ADULTS = "adults", _("Adultes")
    SENIORS = "seniors", _("Seniors")


class Accessibility(models.TextChoices):
    """The five disability types of OpenAgenda ``accessibility``."""

    MOTOR = "motor", _("Handicap moteur")
    VISUAL = "visual", _("Handicap visuel")
    HEARING = "hearing", _("Handicap auditif")
    INTELLECTUAL = "intellectual", _("Handicap mental")
    PSYCHIC = "psychic", _("Handicap psychique")


def validate_accessibility(value: object) -> None:
    if not isinstance(value, list) or any(v not in Accessibility.values for v in value):
        raise ValidationError(
            _("Accessibilité : liste parmi %(codes)s."),
            params={"codes": ", ".join(Accessibility.values)},
        )


def validate_rrule(value: str) -> None:
    """An RFC 5545 RRULE value (without the ``RRULE:`` prefix) within the bounds of
    ``apps.events.recurrence``: DAILY to YEARLY, numbers in range, ``UNTIL`` in UTC
    (``…T220000Z``, as RFC 5545 requires when DTSTART has a time zone), and not a rule that can
    never occur. Whether it gives a date after the event's start is checked when it is saved.
    """
    from apps.events.recurrence import RecurrenceError, recurrence_check

    if not value:
        return
    try:
        recurrence_check(value)
    except RecurrenceError as exc:
        raise ValidationError(str(exc), code=exc.code) from None


def validate_excluded_dates(value: object) -> None:
    """Local dates (``YYYY-MM-DD``) the recurrence skips (iCalendar EXDATE), each once."""
    from apps.events.recurrence import MAX_OCCURRENCES

    if not isinstance(value, list) or len(value) > MAX_OCCURRENCES:
        raise ValidationError(
            _("Dates sautées : une liste d'au plus %(n)d dates."), params={"n": MAX_OCCURRENCES}
        )
    for item in value:
        try:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError
            date.fromisoformat(item)
        except ValueError:
            raise ValidationError(
                _("Dates sautées : « %(value)s » n'est pas une date AAAA-MM-JJ."),
                params={"value": str(item)[:20]},
            ) from None


class Venue(models.Model):
    """A place where events happen (OpenAgenda ``location``, schema.org ``Place``)."""

    name = models.CharField(_("nom"), max_length=200)
    address = models.CharField(_("adresse"), max_length=300)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    location = models.PointField(_("position"), srid=WGS84)
    website = models.URLField(_("site web"), blank=True)
    accessibility = models.JSONField(
        _("accessibilité"), default=list, blank=True, validators=[validate_accessibility]
    )

    history = audited()

    class Meta:
        ordering = ["name"]
        verbose_name = _("lieu")
        verbose_name_plural = _("lieux")
        constraints = [
            models.UniqueConstraint(fields=["name", "address"], name="venue_unique_name_address")
        ]

    def __str__(self) -> str:
        return self.name


class EventQuerySet(ContentQuerySet):
    def over_q(self, now: datetime) -> Q:
        return Q(last_end_at__lte=now)

    def starting_between(
        self, after: datetime | None = None, before: datetime | None = None
    ) -> EventQuerySet:
        """Events with an occurrence starting in [after, before) (either bound optional)."""
        occurrences = EventOccurrence.objects.filter(event=models.OuterRef("pk"))
        if after is not None:
            occurrences = occurrences.filter(start_at__gte=after)
        if before is not None:
            occurrences = occurrences.filter(start_at__lt=before)
        return self.filter(models.Exists(occurrences))

    def with_next_start(self, at: datetime | None = None) -> EventQuerySet:
        """Annotate ``next_start_at``: the next occurrence not yet ended."""
        now = at or timezone.now()
        upcoming = (
            EventOccurrence.objects.filter(event=models.OuterRef("pk"), end_at__gt=now)
            .order_by("start_at")
            .values("start_at")[:1]
        )
        return self.annotate(next_start_at=models.Subquery(upcoming))


class Event(PublishableContent):
    """An event; ``geometry`` is the venue's point unless a route or area is drawn."""

    type_code = ItemType.EVENTS.code
    material_fields: ClassVar[tuple[str, ...]] = (
        "geometry",
        "start_at",
        "end_at",
        "rrule",
        "excluded_dates",
        "event_status",
    )

    start_at = models.DateTimeField(_("début"))
    end_at = models.DateTimeField(_("fin"))
    has_start_time = models.BooleanField(
        _("heure de début connue"), default=True, help_text=_("Sinon, toute la journée.")
    )
    has_end_time = models.BooleanField(_("heure de fin connue"), default=True)
    rrule = models.CharField(
        _("récurrence (RRULE)"),
        max_length=300,
        blank=True,
        validators=[validate_rrule],
        help_text=_("Ex. FREQ=WEEKLY;BYDAY=SA;COUNT=8 — laisser vide pour une date unique."),
    )
    excluded_dates = models.JSONField(
        _("dates sautées"),
        default=list,
        # Bulk loaders (bench city) insert rows in SQL.
        db_default=models.Value([], output_field=models.JSONField()),
        blank=True,
        validators=[validate_excluded_dates],
        help_text=_("Dates de la récurrence qui n'ont pas lieu (jour férié, relâche)."),
    )
    last_end_at = models.DateTimeField(_("fin de la série"), editable=False, db_index=True)
    venue = models.ForeignKey(
        Venue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("lieu"),
    )
    event_status = models.CharField(
        _("état"), max_length=12, choices=EventStatus.choices, default=EventStatus.SCHEDULED
    )
    attendance_mode = models.CharField(
        _("participation"),
        max_length=8,
        choices=AttendanceMode.choices,
        default=AttendanceMode.OFFLINE,
    )
    online_url = models.URLField(_("lien de diffusion"), blank=True)
    is_free = models.BooleanField(_("gratuit"), default=True)
    price_min = models.DecimalField(
        _("prix à partir de (€)"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    price_info = models.CharField(_("tarifs"), max_length=300, blank=True)
    ticket_url = models.URLField(_("billetterie"), blank=True)
    audience = models.CharField(
        _("public"), max_length=10, choices=Audience.choices, default=Audience.EVERYONE
    )
    age_min = models.PositiveSmallIntegerField(_("âge minimum"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("âge maximum"), null=True, blank=True)
    accessibility = models.JSONField(
        _("accessibilité"), default=list, blank=True, validators=[validate_accessibility]
    )
    registration_required = models.BooleanField(_("inscription obligatoire"), default=False)
    registration_url = models.URLField(_("lien d'inscription"), blank=True)
    sequence = models.PositiveIntegerField(
        _("révision"), default=0, editable=False, help_text=_("iCalendar SEQUENCE.")
    )

    objects = EventQuerySet.as_manager()  # type: ignore[misc]

    class Meta(PublishableContent.Meta):
        ordering = ["start_at", "id"]
        verbose_name = _("événement")
        verbose_name_plural = _("événements")
        constraints = [
            *PublishableContent.Meta.constraints,
            models.CheckConstraint(
                condition=Q(end_at__gte=F("start_at")),
                name="events_end_after_start",
                violation_error_message=_("La fin doit suivre le début."),
            ),
            models.CheckConstraint(
                condition=Q(age_min__isnull=True)
                | Q(age_max__isnull=True)
                | Q(age_max__gte=F("age_min")),
                name="events_age_range",
                violation_error_message=_("L'âge maximum doit dépasser l'âge minimum."),
            ),
            models.CheckConstraint(
                condition=Q(is_free=True, price_min__isnull=True) | Q(is_free=False),
                name="events_free_has_no_price",
                violation_error_message=_("Un événement gratuit n'a pas de prix."),
            ),
        ]

    def is_over(self, at: datetime | None = None) -> bool:
        return self.last_end_at is not None and self.last_end_at <= (at or timezone.now())


class EventOccurrence(models.Model):
    """One dated occurrence of an event; ``main`` and ``rule`` rows are rebuilt by the service."""

    class Origin(models.TextChoices):
        MAIN = "main", _("date principale")
        RULE = "rule", _("récurrence")
        EXTRA = "extra", _("date supplémentaire")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="occurrences")
    start_at = models.DateTimeField(_("début"))
    end_at = models.DateTimeField(_("fin"))
    origin = models.CharField(max_length=5, choices=Origin.choices, default=Origin.EXTRA)

    history = audited()

    class Meta:
        ordering = ["start_at", "id"]
        verbose_name = _("date")
        verbose_name_plural = _("dates")
        indexes = [
            models.Index(fields=["start_at"], name="occurrence_start"),
            models.Index(fields=["event", "start_at"], name="occurrence_event_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__gte=F("start_at")),
                name="occurrence_end_after_start",
                violation_error_message=_("La fin doit suivre le début."),
            ),
            models.UniqueConstraint(fields=["event", "start_at"], name="occurrence_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} @ {self.start_at:%Y-%m-%d %H:%M}"
