"""Who is told about an item: the audience, one SQL query (architecture.md §6).

A device is in the audience of an item when all of these hold:

- it wants pushes and holds a live token (``PUSHABLE``) and the item's urgency is at least the
  device's ``min_urgency``;
- **where**: one of its places reaches the item's geometry (the place's circle, buffered by its
  own radius, intersects it: ``Place.objects.reaching``, an index scan on the reach boxes) or it
  follows an area the item touches; an item with no geometry concerns the whole city;
- **what**: it follows the item's category, or the item is at least ``important``.

``audience(item)`` is a lazy ``Device`` queryset: ``count()`` is the admin's reach preview,
``reach_by_area`` splits it by district, and ``insert_deliveries`` copies it into the outbox
with ``INSERT … SELECT`` (the rows never travel through Python). The "where" test uses
one ``IN`` on the ``UNION`` of the places' and the areas' devices (a semi-join: PostgreSQL
hashes it once). When a category filters, the exact geodesic test waits until the category
has cut the candidates (``_where_among_q``). ``bench/notify_audience.py`` measures it on
the bench city against the same rule checked in Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, JSONObject, Least, Round
from django.utils import timezone

from apps.core.disclosure import Cell, cell_key, key_sum
from apps.core.geo import DistanceM, DWithinM
from apps.core.models import Area, AreaKind, PublishableContent, Urgency
from apps.notifications import policy, timing
from apps.notifications.models import Delivery, DeliveryStatus
from apps.residents.models import AreaFollow, CategoryFollow, Device, Place, SavedItem


class NestedJSON(Func):
    """A JSON value from a subquery, nested as JSON (not as a string) in ``JSONObject``.

    PostgreSQL's ``jsonb_build_object`` nests a ``jsonb`` as is; SQLite's ``json_object`` needs
    its argument wrapped in ``json()`` or it embeds the text.
    """

    function = ""
    output_field = JSONField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSON", **extra)


def _area_ids(item: PublishableContent) -> QuerySet[Any]:
    """The ids of the areas ``item`` touches, as a subquery."""
    relation: Any = type(item)._meta.get_field("areas")
    through: Any = relation.remote_field.through
    return through.objects.filter(**{f"{relation.m2m_field_name()}_id": item.pk}).values("area_id")


def _area_followers(item: PublishableContent) -> QuerySet[Any]:
    return AreaFollow.objects.filter(area_id__in=_area_ids(item)).values("device_id")


def where_q(item: PublishableContent) -> Q:
    """Devices concerned by the item's location (everyone for a city-wide item)."""
    if item.geometry is None:
        return Q()
    near = Place.objects.reaching(item.geometry).order_by().values("device_id")
    return Q(pk__in=near.union(_area_followers(item)))


def _where_among_q(item: PublishableContent, among: QuerySet[Any]) -> Q:
    """``where_q`` for the devices of ``among`` (a ``device_id`` subquery keeping few devices:
    the followers of a category).

    The exact test costs per place (the planar band of ``reaching_exactly``, and the geodesic
    test for the few places in the band), and a roadwork's reach boxes overlap thousands of
    places (radii up to 5 km). So the reach boxes only pick the candidates among ``among``
    (index scan, no exact test); the exact test then runs on the own places of the candidates
    that passed every other filter (``EXISTS`` on the device_id index): far fewer tests when a
    category filters (figures: bench/README.md, *Audience* and *Figures quoted by the code*).
    """
    if item.geometry is None:
        return Q(pk__in=among)
    boxes = Place.objects.reach_box_overlaps(item.geometry).filter(device_id__in=among)
    followed = _area_followers(item)
    candidates = boxes.order_by().values("device_id").union(followed.filter(device_id__in=among))
    exact = Exists(Place.objects.filter(device_id=OuterRef("pk")).reaching_exactly(item.geometry))
    where: Q = Q(pk__in=candidates) & (Q(pk__in=followed) | Q(exact))
    return where


def audience(item: PublishableContent) -> QuerySet[Device]:
    """The devices to notify about ``item`` (evaluated lazily, one query)."""
    devices = Device.objects.pushable().filter(min_urgency__lte=item.urgency)
    if item.urgency >= Urgency.IMPORTANT:
        return devices.filter(where_q(item))
    followers = CategoryFollow.objects.filter(category_id=item.category_id).values("device_id")
    return devices.filter(_where_among_q(item, followers))


def with_why(devices: QuerySet[Device], item: PublishableContent) -> QuerySet[Device]:
    """``devices`` annotated with ``why``: the nearest place that reaches the item (label, name,
    distance in metres), a followed area it touches, whether the category is followed."""
    parts: dict[str, Any] = {
        "category": Exists(
            CategoryFollow.objects.filter(device_id=OuterRef("pk"), category_id=item.category_id)
        ),
        "urgency": Value(int(item.urgency)),
    }
    if item.geometry is not None:
        # The device's own places (one to three, on the device_id index), tested exactly. Not
        # ``Place.objects.reaching``: its reach-box test makes the planner scan that index for
        # every device of the audience (minutes for an alert: bench/README.md).
        nearest = (
            Place.objects.filter(device_id=OuterRef("pk"))
            .filter(DWithinM("location", item.geometry, F("radius_m")))
            .annotate(distance=DistanceM("location", item.geometry))
            .order_by("distance", "id")
        )
        parts["place"] = NestedJSON(
            Subquery(
                nearest.annotate(
                    why=JSONObject(
                        label=F("label"),
                        name=F("name"),
                        distance_m=Cast(Round(F("distance")), IntegerField()),
                    )
                ).values("why")[:1]
            )
        )
        parts["area"] = Subquery(
            Area.objects.filter(
                pk__in=_area_ids(item),
                device_follows__device_id=OuterRef("pk"),
            )
            .order_by("name")
            .values("name")[:1]
        )
    return devices.annotate(why=JSONObject(**parts))


def reach_by_area(item: PublishableContent) -> list[tuple[str, int]]:
    """The audience split by the area of each device's first place (admin preview).

    Devices whose places all lie outside the city's areas count under "" (elsewhere). A place
    inside a district counts under the district, not under the commune around it.
    """
    return [(name, n) for name, n, _key in reach_cells(item)]


def reach_cells(item: PublishableContent) -> list[tuple[str, int, int]]:
    """``reach_by_area`` with the disclosure key of each group's devices (one query)."""
    devices = audience(item)
    finest_first = Case(When(kind=AreaKind.DISTRICT, then=Value(0)), default=Value(1))
    home_area = Subquery(
        Area.objects.filter(geometry__contains=OuterRef("location"))
        .order_by(finest_first, "name")
        .values("name")[:1]
    )
    first_place = Place.objects.filter(device_id=OuterRef("pk")).order_by("id")
    rows = (
        devices.annotate(
            area_name=Subquery(first_place.annotate(area_name=home_area).values("area_name")[:1])
        )
        .values("area_name")
        .annotate(n=Count("pk"), key=key_sum("pk"))
        .order_by("-n", "area_name")
    )
    return [(row["area_name"] or "", row["n"], cell_key(row["key"])) for row in rows]


def budget_spent_cell(item: PublishableContent, *, now: datetime | None = None) -> Cell:
    """How many devices of ``item``'s audience would get it in a digest rather than as a push
    because their limits are used up now (``policy.budget``), with their disclosure key: for an
    information item, the week's information budget or the daily cap; for an important one,
    the daily important limit or the daily cap; alerts are never held back (one query).

    The day and the week are the city's (``TIME_ZONE``): a preview, not the send-time rule,
    which uses each device's own zone."""
    if item.urgency >= Urgency.ALERT:
        return Cell(0)
    now = now or timezone.now()
    day = timing.day_start(now, "")
    capped = Delivery.objects.filter(
        device_id=OuterRef("pk"),
        status=DeliveryStatus.SENT,
        notification__kind__in=policy.CAPPED_KINDS,
        notification__urgency__lt=Urgency.ALERT,
    )

    def counted(rows: QuerySet[Any]) -> Subquery:
        return Subquery(
            rows.order_by().values("device_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        )

    today = Coalesce(counted(capped.filter(sent_at__gte=day)), 0)
    if item.urgency >= Urgency.IMPORTANT:
        limited = counted(
            capped.filter(sent_at__gte=day, notification__urgency__gte=Urgency.IMPORTANT)
        )
        spent = Q(used_today__gte=F("max_pushes_per_day")) | Q(
            used_limited__gte=F("important_per_day")
        )
    else:
        week = timing.week_start(now, "")
        limited = counted(
            capped.filter(sent_at__gte=week, notification__urgency__lt=Urgency.IMPORTANT)
        )
        spent = Q(used_today__gte=F("max_pushes_per_day")) | Q(used_limited__gte=F("info_per_week"))
    row = (
        audience(item)
        .annotate(used_today=today, used_limited=Coalesce(limited, 0))
        .filter(spent)
        .aggregate(n=Count("pk"), key=key_sum("pk"))
    )
    return Cell(row["n"] or 0, cell_key(row["key"]))


def saved_audience(item_type: str, item_id: int) -> QuerySet[Device]:
    """Pushable devices that saved the item and want reminders of saved events."""
    saved = SavedItem.objects.filter(item_type=item_type, item_id=item_id).values("device_id")
    return Device.objects.pushable().filter(pk__in=saved, remind_saved_events=True)


#: A roadwork reminder goes to homes within this distance of the works (or the home's own
#: radius, if smaller): "near your home" means the street, not the 5 km a resident may watch
#: for news. With the place radius alone, one evening's roadworks starting the next day made
#: hundreds of thousands of reminders on the bench city (bench/README.md).
NEAR_HOME_M = 500


def home_audience(item: PublishableContent) -> QuerySet[Device]:
    """Pushable devices whose home lies within ``NEAR_HOME_M`` (or its radius, if smaller) of
    the item and who want roadwork reminders."""
    if item.geometry is None:  # a city-wide item is near nobody's home in particular
        return Device.objects.none()
    near = Least(F("radius_m"), Value(NEAR_HOME_M))
    homes = (
        Place.objects.reaching(item.geometry)  # the index scan on the (larger) reach boxes
        .filter(label="home")
        .filter(DWithinM("location", item.geometry, near))
        .values("device_id")
    )
    return Device.objects.pushable().filter(pk__in=homes, remind_works_near_home=True)


def insert_deliveries(notification_id: int, devices: QuerySet[Device], *, why: bool = True) -> int:
    """Copy ``devices`` into deliveries of the notification with ``INSERT … SELECT``.

    ``devices`` must be annotated with ``why`` (``with_why``) unless ``why`` is false. Rows that
    already exist are left alone (``ON CONFLICT DO NOTHING``); returns how many were inserted.
    """
    from apps.notifications.models import Delivery

    now = timezone.now()
    devices = devices.annotate(target_id=F("pk"))
    select = devices.values("target_id", "why") if why else devices.values("target_id")
    sql, params = select.query.sql_with_params()
    table = Delivery._meta.db_table
    why_sql = "sub.why" if why else "'{}'"
    if connection.vendor == "postgresql" and why:
        why_sql = "sub.why::jsonb"
    statement = (
        f'INSERT INTO "{table}" (notification_id, device_id, status, reason, error_code, '
        "attempts, why, not_before, enqueued_at, claimed_at, sent_at, created_at, updated_at) "
        f"SELECT %s, sub.target_id, 'pending', '', '', 0, {why_sql}, NULL, %s, NULL, NULL, %s, %s "
        f"FROM ({sql}) sub WHERE true "
        "ON CONFLICT (notification_id, device_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [notification_id, now, now, now, *params])
        return cursor.rowcount
