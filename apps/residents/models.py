"""Anonymous residents: a device and everything it chose (places, follows, saved items).

Every row owned by a device references it with ``on_delete=CASCADE`` (``device`` foreign key):
erasing a device erases all of it, and the GDPR export finds it by walking
``Device._meta.related_objects`` (see ``apps.residents.gdpr``). Models added by other apps
must follow the same rule; a test fails otherwise.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db.models import Q
from django.utils.timezone import now as timezone_now
from django.utils.translation import gettext_lazy as _

from apps.core.geo import WGS84
from apps.core.item_types import CODE_CHOICES
from apps.core.models import Area, Urgency
from apps.residents.rounding import snap_coordinates

#: Saved places per device (``places_max`` in the API docs).
PLACES_MAX = 10


class Platform(models.TextChoices):
    ANDROID = "android", "Android"
    IOS = "ios", "iOS"
    WEB = "web", "Web"


class PlaceLabel(models.TextChoices):
    HOME = "home", _("Domicile")
    WORK = "work", _("Travail")
    SCHOOL = "school", _("École")
    OTHER = "other", _("Autre")


#: Devices that want pushes and hold a live push token.
PUSHABLE = Q(notifications_enabled=True, push_token__isnull=False, push_token_active=True)


class DeviceQuerySet(models.QuerySet):
    def pushable(self) -> DeviceQuerySet:
        """Devices that want pushes and hold a live push token (``PUSHABLE``)."""
        return self.filter(PUSHABLE)

    def inactive_since(self, cutoff: datetime) -> DeviceQuerySet:
        """Devices not seen since ``cutoff`` (candidates for the inactivity purge)."""
        return self.filter(last_seen_at__lt=cutoff)


class Device(models.Model):
    """An installed app: the resident's anonymous identity and their preferences.

    ``token_hash`` is the SHA-256 of the bearer token (``apps.residents.tokens``); the token
    itself is never stored. ``quiet_hours_start``/``_end`` are local times in ``timezone``; the
    window may cross midnight (22:00 to 07:00); both are set or both are empty.
    """

    #: Fields never exported, in addition to any field whose name ends in ``_hash``.
    gdpr_export_exclude: ClassVar[tuple[str, ...]] = ("token_hash",)

    platform = models.CharField(_("plateforme"), max_length=8, choices=Platform.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    push_token = models.CharField(
        _("jeton de notification"), max_length=1024, unique=True, null=True, blank=True
    )
    push_token_active = models.BooleanField(
        default=False, help_text=_("Faux quand FCM a déclaré le jeton invalide.")
    )
    push_token_updated_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(
        _("langue"), max_length=2, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    timezone = models.CharField(_("fuseau horaire"), max_length=64, default=settings.TIME_ZONE)
    notifications_enabled = models.BooleanField(_("notifications"), default=True)
    quiet_hours_start = models.TimeField(_("début des heures calmes"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("fin des heures calmes"), null=True, blank=True)
    max_pushes_per_day = models.PositiveSmallIntegerField(
        _("notifications par jour au plus"), default=5
    )
    min_urgency = models.PositiveSmallIntegerField(
        _("urgence minimale"), choices=Urgency.choices, default=Urgency.INFO
    )
    #: The notification budget (docs/notifications.md, "Budget"): ``info`` pushes a local
    #: week (Monday to Sunday), ``important`` pushes a local day; alerts are never counted.
    #: The excess goes into the daily digest, or the weekly one on ``weekly_digest_day``.
    #: Database defaults too: the bulk loaders (bench city, test kit) insert devices in SQL.
    info_per_week = models.PositiveSmallIntegerField(
        _("informations par semaine au plus"), default=3, db_default=3
    )
    important_per_day = models.PositiveSmallIntegerField(
        _("notifications importantes par jour au plus"), default=2, db_default=2
    )
    #: 0 = Monday … 6 = Sunday: the weekly digest's day; None = the daily digest.
    weekly_digest_day = models.PositiveSmallIntegerField(
        _("jour du résumé hebdomadaire"), null=True, blank=True
    )
    weekly_digest_time = models.TimeField(
        _("heure du résumé hebdomadaire"), default=time(18, 0), db_default=time(18, 0)
    )
    personalization_consent = models.BooleanField(_("personnalisation acceptée"), default=False)
    personalization_consent_at = models.DateTimeField(null=True, blank=True)
    remind_saved_events = models.BooleanField(_("rappels des événements"), default=True)
    remind_works_near_home = models.BooleanField(_("rappels des travaux"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("vu le"), default=timezone_now, db_index=True)

    objects = DeviceQuerySet.as_manager()

    #: ``last_seen_at`` is written at most this often (one UPDATE per device per interval).
    LAST_SEEN_RESOLUTION: ClassVar[timedelta] = timedelta(hours=1)

    class Meta:
        verbose_name = _("appareil")
        verbose_name_plural = _("appareils")
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False),
                name="device_quiet_hours_both_or_none",
            ),
            models.CheckConstraint(
                condition=Q(max_pushes_per_day__gte=1, max_pushes_per_day__lte=50),
                name="device_max_pushes_range",
            ),
            models.CheckConstraint(
                condition=Q(info_per_week__lte=50, important_per_day__lte=50),
                name="device_budget_range",
            ),
            models.CheckConstraint(
                condition=Q(weekly_digest_day__isnull=True) | Q(weekly_digest_day__lte=6),
                name="device_weekly_digest_day_range",
            ),
        ]
        indexes = [
            # The audience's devices (``pushable()``): an index-only scan of the pushable ones
            # instead of reading every device (several times faster: bench/README.md).
            models.Index(
                fields=["id"], include=["min_urgency"], condition=PUSHABLE, name="device_pushable"
            )
        ]

    def __str__(self) -> str:
        return f"device {self.pk}"


class SnappedPointField(models.PointField):
    """A point field that snaps its value to the 0.001° grid on every save (``rounding``).

    Rounding happens in ``pre_save``, which ``save()``, ``create()`` and ``bulk_create()``
    all call, so no write path can store a precise location. (``QuerySet.update()`` does not
    call ``pre_save``: never update ``location`` that way.)
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if isinstance(value, Point):
            if value.srid not in (None, WGS84):
                value = value.transform(WGS84, clone=True)
            lon, lat = snap_coordinates(value.x, value.y)
            value = Point(lon, lat, srid=WGS84)
            setattr(model_instance, self.attname, value)
        return value


class PlaceQuerySet(models.QuerySet):
    def reaching(self, geometry: GEOSGeometry) -> PlaceQuerySet:
        """Places whose circle (``location``, ``radius_m``) reaches ``geometry``.

        Index scan on the reach boxes, then the exact geodesic test, mostly decided by a planar
        band (``apps.residents.spatial``).
        """
        from apps.residents.spatial import ReachesExactly

        exact = ReachesExactly(geometry, Place.RADIUS_MAX_M, boxed=True)
        return self.reach_box_overlaps(geometry).filter(exact)

    def reach_box_overlaps(self, geometry: GEOSGeometry) -> PlaceQuerySet:
        """Places whose reach box overlaps ``geometry``'s bounding box: an index scan, a superset
        of ``reaching(geometry)`` (every place on SpatiaLite)."""
        from apps.residents.spatial import ReachBoxOverlaps

        return self.filter(ReachBoxOverlaps(geometry))

    def reaching_exactly(self, geometry: GEOSGeometry) -> PlaceQuerySet:
        """The exact geodesic test alone, no index (for the candidates of the reach boxes or a
        few places, e.g. one device's). Its result is the geodesic ``ST_DWithin``'s; on PostGIS
        a planar band decides most places first (``apps.residents.spatial.PlanarBand``)."""
        from apps.residents.spatial import ReachesExactly

        return self.filter(ReachesExactly(geometry, Place.RADIUS_MAX_M))


class Place(models.Model):
    """A place the resident cares about: a coarse point and a radius in metres.

    Indexes: GiST on ``geography(location)`` (fixed-distance queries: ``within_m``) and on the
    reach box of each place (``Place.objects.reaching(item.geometry)``, the audience query).
    """

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="places")
    label = models.CharField(_("type"), max_length=6, choices=PlaceLabel.choices)
    name = models.CharField(_("nom"), max_length=80, blank=True)
    location = SnappedPointField(_("position arrondie"), srid=WGS84)
    radius_m = models.PositiveIntegerField(_("rayon (m)"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlaceQuerySet.as_manager()

    RADIUS_MIN_M: ClassVar[int] = 100
    RADIUS_MAX_M: ClassVar[int] = 5000

    class Meta:
        ordering = ["id"]
        verbose_name = _("lieu")
        verbose_name_plural = _("lieux")
        constraints = [
            models.CheckConstraint(
                condition=Q(radius_m__gte=100, radius_m__lte=5000), name="place_radius_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} of device {self.device_id}"


class CategoryFollow(models.Model):
    """A device follows a category (``(category, device)`` index for audience queries)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="category_follows")
    category = models.ForeignKey(
        "core.Category", on_delete=models.CASCADE, related_name="device_follows"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("catégorie suivie")
        verbose_name_plural = _("catégories suivies")
        constraints = [
            models.UniqueConstraint(fields=["device", "category"], name="category_follow_unique")
        ]
        indexes = [models.Index(fields=["category", "device"], name="category_follow_audience")]

    def __str__(self) -> str:
        return f"{self.device_id} → {self.category_id}"


class AreaFollow(models.Model):
    """A device follows an area (commune or district)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="area_follows")
    area = models.ForeignKey("core.Area", on_delete=models.CASCADE, related_name="device_follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("zone suivie")
        verbose_name_plural = _("zones suivies")
        constraints = [
            models.UniqueConstraint(fields=["device", "area"], name="area_follow_unique")
        ]
        indexes = [models.Index(fields=["area", "device"], name="area_follow_audience")]

    def __str__(self) -> str:
        return f"{self.device_id} → {self.area_id}"


class OrganizationFollow(models.Model):
    """A device follows a publisher."""

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="organization_follows"
    )
    organization = models.ForeignKey(
        "core.Organization", on_delete=models.CASCADE, related_name="device_follows"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation suivie")
        verbose_name_plural = _("organisations suivies")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "organization"], name="organization_follow_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "device"], name="organization_follow_audience")
        ]

    def __str__(self) -> str:
        return f"{self.device_id} → {self.organization_id}"


class SavedItem(models.Model):
    """A news item, roadwork or event the resident saved (reminders use saved events)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="saved_items")
    item_type = models.CharField(max_length=6, choices=CODE_CHOICES)
    item_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contenu enregistré")
        verbose_name_plural = _("contenus enregistrés")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "item_type", "item_id"], name="saved_item_unique"
            )
        ]
        indexes = [models.Index(fields=["item_type", "item_id"], name="saved_item_by_item")]

    def __str__(self) -> str:
        return f"{self.item_type}/{self.item_id} saved by {self.device_id}"


class TransferCode(models.Model):
    """A one-time code that moves a device's profile to a new phone (``tokens``)."""

    LIFETIME: ClassVar[timedelta] = timedelta(minutes=15)

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="transfer_codes")
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("code de transfert")
        verbose_name_plural = _("codes de transfert")

    def __str__(self) -> str:
        return f"transfer code of device {self.device_id}"


class ResidentStatistics(Area):
    """The admin entry of the aggregate statistics page (``apps.residents.admin``).

    A proxy (no table of its own) so that the page has its own "view" permission and a link on
    the admin index. Staff see counts only; no admin screen lists devices or places.
    """

    class Meta:
        proxy = True
        default_permissions = ("view",)
        verbose_name = _("statistiques des habitants")
        verbose_name_plural = _("statistiques des habitants")
