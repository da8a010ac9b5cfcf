"""The notification budget (issue 18, item 3): information pushes a week, important ones a day,
alerts never; the excess goes into the daily digest or the weekly one; the reach preview says
how many devices would get a digest instead; residents set it in ``/me/``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from apps.core.models import Urgency
from apps.core.services import content_publish
from apps.notifications import policy, services, timing
from apps.notifications.audience import budget_spent_cell
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from tests.factories import WorksFactory
from tests.notifications.helpers import phone, phone_resident, pushed_tokens, pushes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]

#: Wednesday 2 December 2026, 13:00 in Paris.
T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def call(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return call


def publish(run, mobility, n: int = 0, **fields):
    fields.setdefault("title_fr", f"Chantier {n}")
    return run(content_publish, item=WorksFactory(category=mobility, notify=True, **fields))


# --- the pure rule ---------------------------------------------------------------------------


def entry(urgency=Urgency.INFO, *, device=1, kind_capped=True, **limits):
    limits.setdefault("limit", 50)
    return policy.CapEntry(device_id=device, capped_kind=kind_capped, urgency=urgency, **limits)


def test_information_is_limited_by_the_week_and_counts_what_was_sent():
    entries = [entry(info_per_week=3) for _ in range(3)]
    assert policy.budget(entries, used={1: policy.Used(info_week=1)}) == [
        None,
        None,
        Reason.BUDGET,
    ]


def test_important_is_limited_by_the_day_and_not_by_the_weekly_budget():
    entries = [entry(Urgency.IMPORTANT, important_per_day=2, info_per_week=0) for _ in range(3)]
    assert policy.budget(entries, used={}) == [None, None, Reason.CAPPED]


def test_alerts_are_never_limited_nor_counted():
    entries = [
        entry(Urgency.ALERT, limit=1, info_per_week=0, important_per_day=0),
        entry(Urgency.ALERT, limit=1, info_per_week=0, important_per_day=0),
        entry(Urgency.INFO, limit=1, info_per_week=1),
    ]
    assert policy.budget(entries, used={}) == [None, None, None]


def test_the_daily_cap_still_applies_before_the_budget():
    entries = [entry(limit=2, info_per_week=10) for _ in range(3)]
    used = {1: policy.Used(today=1)}
    assert policy.budget(entries, used=used) == [None, Reason.CAPPED, Reason.CAPPED]


def test_held_back_pushes_count_for_nothing_and_devices_are_separate():
    entries = [
        entry(Urgency.IMPORTANT, important_per_day=0),  # held back: counts nothing
        entry(info_per_week=1),
        entry(info_per_week=1, device=2),
        entry(info_per_week=1),
    ]
    assert policy.budget(entries, used={}) == [Reason.CAPPED, None, None, Reason.BUDGET]


def test_a_zero_budget_sends_information_only_in_digests():
    assert policy.budget([entry(info_per_week=0)], used={}) == [Reason.BUDGET]


# --- the week, in the device's time zone ------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "monday"),
    [
        # Wednesday in Paris: Monday 30 November 00:00 Paris = 23:00 UTC the day before.
        (T0, "Europe/Paris", datetime(2026, 11, 29, 23, 0, tzinfo=UTC)),
        # Sunday 23:30 UTC is already Monday in Auckland (UTC+13): its week starts that Monday.
        (
            datetime(2026, 12, 6, 23, 30, tzinfo=UTC),
            "Pacific/Auckland",
            datetime(2026, 12, 6, 11, 0, tzinfo=UTC),
        ),
        # ... and still Sunday in Paris (00:30 on Monday is an hour away): last week.
        (
            datetime(2026, 12, 6, 22, 30, tzinfo=UTC),
            "Europe/Paris",
            datetime(2026, 11, 29, 23, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_week_starts_on_the_devices_local_monday(now, tz, monday):
    assert timing.week_start(now, tz) == monday


def test_the_weekly_digest_goes_out_on_the_chosen_day_and_time():
    # Wednesday 13:00 Paris; Sunday 18:00 Paris = 17:00 UTC.
    assert timing.weekly_digest_at(T0, "Europe/Paris", 6, time(18, 0)) == datetime(
        2026, 12, 6, 17, 0, tzinfo=UTC
    )
    # Wednesday 13:00, chosen Wednesday 13:15: too close, next week.
    assert timing.weekly_digest_at(T0, "Europe/Paris", 2, time(13, 15)) == datetime(
        2026, 12, 9, 12, 15, tzinfo=UTC
    )


# --- through the pipeline ----------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_information_beyond_the_weekly_budget_goes_into_the_daily_digest(run, mobility):
    device = phone(follows=[mobility], info_per_week=2)
    for n in range(4):
        publish(run, mobility, n)

    assert pushed_tokens() == [device.push_token] * 2
    held = Delivery.objects.filter(device=device, reason=Reason.BUDGET)
    assert held.count() == 2
    digest = Notification.objects.get(kind=Kind.DIGEST)
    assert digest.text_for("fr") == {
        "title": "2 autres informations aujourd'hui",
        "body": "Chantier 2 · Chantier 3",
    }
    pending = digest.deliveries.get()
    assert (pending.status, pending.not_before) == (
        DeliveryStatus.HELD,
        datetime(2026, 12, 2, 17, 30, tzinfo=UTC),  # 18:30 in Paris, the daily digest
    )
    # The budget is the week's: the next day (Thursday) still nothing but digests ...
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        publish(run, mobility, 4)
    assert len(pushed_tokens()) == 2
    # ... and the next Monday (local) it starts again.
    with time_machine.travel(datetime(2026, 12, 7, 8, 0, tzinfo=UTC), tick=False):
        publish(run, mobility, 5)
    assert len(pushed_tokens()) == 3


@time_machine.travel(T0, tick=False)
def test_alerts_pass_a_spent_budget_and_important_has_its_daily_limit(run, mobility):
    device = phone(follows=[mobility], info_per_week=0, important_per_day=1)
    publish(run, mobility, 0)  # information: budget 0, into the digest
    publish(run, mobility, 1, urgency=Urgency.IMPORTANT)
    publish(run, mobility, 2, urgency=Urgency.IMPORTANT)  # over the daily important limit
    publish(run, mobility, 3, urgency=Urgency.ALERT)
    publish(run, mobility, 4, urgency=Urgency.ALERT)

    assert [p.title for p in pushes()] == [
        n.text_for("fr")["title"]
        for n in Notification.objects.filter(
            kind=Kind.NEW, item_id__in=[w for w in _works_ids(1, 3, 4)]
        ).order_by("pk")
    ]
    reasons = dict(
        Delivery.objects.filter(device=device, notification__kind=Kind.NEW)
        .exclude(reason="")
        .values_list("notification__urgency", "reason")
    )
    assert reasons == {Urgency.INFO: Reason.BUDGET, Urgency.IMPORTANT: Reason.CAPPED}


def _works_ids(*indexes: int) -> list[int]:
    """The ids of the works titled ``Chantier <n>`` for ``indexes``."""
    from apps.works.models import Works

    return list(
        Works.objects.filter(title_fr__in=[f"Chantier {n}" for n in indexes]).values_list(
            "pk", flat=True
        )
    )


@time_machine.travel(T0, tick=False)
def test_a_weekly_digest_gathers_the_weeks_excess_on_the_chosen_day(run, mobility):
    device = phone(follows=[mobility], info_per_week=1, weekly_digest_day=6)
    publish(run, mobility, 0)
    publish(run, mobility, 1)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        publish(run, mobility, 2)

    assert len(pushed_tokens()) == 1
    digest = Notification.objects.get(kind=Kind.DIGEST)
    assert digest.text_for("fr") == {
        "title": "2 autres informations cette semaine",
        "body": "Chantier 1 · Chantier 2",
    }
    assert digest.text_for("en")["title"] == "2 more updates this week"
    pending = digest.deliveries.get(device=device)
    assert pending.not_before == datetime(2026, 12, 6, 17, 0, tzinfo=UTC)  # Sunday 18:00 Paris
    with time_machine.travel(datetime(2026, 12, 6, 17, 1, tzinfo=UTC), tick=False):
        run(services.deliveries_sweep)
    assert pushes()[-1].title == "2 autres informations cette semaine"


# --- the reach preview -------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_the_preview_counts_devices_whose_budget_is_spent(run, mobility):
    spent = [phone(follows=[mobility], info_per_week=1) for _ in range(6)]
    fresh = [phone(follows=[mobility], info_per_week=5) for _ in range(3)]
    publish(run, mobility, 0)
    assert len(pushed_tokens()) == 9

    draft = WorksFactory(category=mobility, notify=True)
    important = WorksFactory(category=mobility, notify=True, urgency=Urgency.IMPORTANT)
    alert = WorksFactory(category=mobility, notify=True, urgency=Urgency.ALERT)

    assert budget_spent_cell(draft).count == len(spent)
    assert budget_spent_cell(important).count == 0
    assert budget_spent_cell(alert).count == 0
    assert len(fresh) == 3


# --- /me/ ----------------------------------------------------------------------------------------


def test_residents_read_and_change_their_budget():
    resident = phone_resident(at=None)
    me = resident.client.get("/api/v1/me/").json()
    assert (me["info_per_week"], me["important_per_day"]) == (3, 2)
    assert (me["weekly_digest_day"], me["weekly_digest_time"]) == (None, "18:00:00")

    answer = resident.client.patch(
        "/api/v1/me/",
        {
            "info_per_week": 1,
            "important_per_day": 4,
            "weekly_digest_day": 0,
            "weekly_digest_time": "08:30",
        },
        format="json",
    )

    assert answer.status_code == 200, answer.content
    resident.device.refresh_from_db()
    d = resident.device
    assert (d.info_per_week, d.important_per_day, d.weekly_digest_day) == (1, 4, 0)
    assert d.weekly_digest_time == time(8, 30)


@pytest.mark.parametrize(
    "body",
    [
        {"info_per_week": -1},
        {"info_per_week": 51},
        {"info_per_week": "3"},
        {"important_per_day": 51},
        {"weekly_digest_day": 7},
        {"weekly_digest_day": "sunday"},
        {"weekly_digest_time": "25:00"},
        {"weekly_digest_time": None},
    ],
)
def test_bad_budgets_are_400_and_change_nothing(body):
    resident = phone_resident(at=None)
    answer = resident.client.patch("/api/v1/me/", body, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["fields"]) == set(body)
    resident.device.refresh_from_db()
    assert (resident.device.info_per_week, resident.device.weekly_digest_day) == (3, None)
