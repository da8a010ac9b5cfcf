"""The pipeline's rules in process (eager tasks, log backend): audience, quiet hours, the daily
cap and digest, reminders, scheduled sends, payload limit, tokens, sweeper recovery."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.gis.geos import LineString

from apps.core.models import Status, Urgency
from apps.core.services import (
    content_archive,
    content_areas_refresh,
    content_lifecycle_run,
    content_publish,
    content_schedule,
)
from apps.events.services import event_save
from apps.notifications import services
from apps.notifications.gateway.configured import get_gateway
from apps.notifications.gateway.fcm import payload_size
from apps.notifications.gateway.push import MAX_PAYLOAD_BYTES, OutgoingPush
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.notifications.texts import new_texts
from apps.residents.models import Device, SavedItem
from apps.residents.services import device_register
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    AreaFactory,
    CategoryFactory,
    EventFactory,
    NewsFactory,
    WorksFactory,
    square,
)
from tests.notifications.helpers import FAR, phone, pushed_tokens, pushes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # 13:00 in Paris, 01:00 on the 3rd in Auckland


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run ``fn(**kwargs)`` and then its on-commit callbacks (dispatch → send, eagerly)."""

    def call(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return call


def publish(run, item):
    return run(content_publish, item=item)


# --- audience ------------------------------------------------------------------------------


def test_urgency_and_category_rules(run, mobility, culture):
    follower = phone(follows=[mobility])
    other = phone(follows=[culture])
    picky = phone(follows=[mobility], min_urgency=Urgency.ALERT)
    publish(run, WorksFactory(category=mobility, notify=True))  # info: followers only
    assert pushed_tokens() == [follower.push_token]
    get_gateway().clear()
    publish(run, WorksFactory(category=mobility, notify=True, urgency=Urgency.IMPORTANT))
    assert sorted(pushed_tokens()) == sorted([follower.push_token, other.push_token])
    get_gateway().clear()
    publish(run, WorksFactory(category=culture, notify=True, urgency=Urgency.ALERT))
    assert sorted(pushed_tokens()) == sorted(d.push_token for d in (follower, other, picky))


def test_followed_areas_count_as_places(run, mobility):
    district = AreaFactory(slug="presquile", name="Presqu'île")
    by_area = phone(at=FAR, follows=[mobility], areas=[district])
    phone(at=FAR, follows=[mobility])  # neither near nor following the area
    works = WorksFactory(category=mobility, notify=True)
    content_areas_refresh(item=works)
    publish(run, works)
    assert pushed_tokens() == [by_area.push_token]
    assert Delivery.objects.get().why["area"] == "Presqu'île"
    assert Delivery.objects.get().why["place"] is None


def test_a_place_reaches_an_item_within_its_own_radius(run, mobility):
    # The works line starts at the centre; a place 1.5 km east reaches it only with 2 km.
    east = (CENTRE_LON + 0.0193, CENTRE_LAT)
    wide = phone(at=east, radius_m=2000, follows=[mobility])
    phone(at=east, radius_m=500, follows=[mobility])
    works = WorksFactory(
        category=mobility,
        notify=True,
        geometry=LineString((CENTRE_LON - 0.001, CENTRE_LAT), (CENTRE_LON, CENTRE_LAT)),
    )
    publish(run, works)
    assert pushed_tokens() == [wide.push_token]
    assert 1000 < Delivery.objects.get().why["place"]["distance_m"] < 2000


def test_city_wide_news_reaches_the_whole_city(run, mobility, culture):
    anywhere = phone(at=None, follows=[culture])
    follower = phone(at=FAR, follows=[mobility])
    publish(run, NewsFactory(category=mobility, geometry=None, notify=True))
    assert pushed_tokens() == [follower.push_token]
    get_gateway().clear()
    publish(
        run, NewsFactory(category=mobility, geometry=None, notify=True, urgency=Urgency.IMPORTANT)
    )
    assert sorted(pushed_tokens()) == sorted([anywhere.push_token, follower.push_token])


def test_devices_without_notifications_or_live_token_are_left_out(run, mobility):
    phone(follows=[mobility], notifications_enabled=False)
    dead = phone(follows=[mobility])
    Device.objects.filter(pk=dead.pk).update(push_token_active=False)
    tokenless = phone(follows=[mobility])
    Device.objects.filter(pk=tokenless.pk).update(push_token=None, push_token_active=False)
    publish(run, WorksFactory(category=mobility, notify=True))
    assert Notification.objects.get().targeted == 0
    assert pushed_tokens() == []


def test_items_without_notify_send_nothing(run, mobility):
    phone(follows=[mobility])
    publish(run, WorksFactory(category=mobility, notify=False))
    assert not Notification.objects.exists()


def test_text_in_the_device_language(run, mobility):
    fr = phone(follows=[mobility], language="fr")
    en = phone(follows=[mobility], language="en")
    works = WorksFactory(
        category=mobility, notify=True, title_fr="Rue barrée", title_en="Street closed"
    )
    publish(run, works)
    titles = {p.token: p.title for p in pushes()}
    assert titles == {fr.push_token: "Rue barrée", en.push_token: "Street closed"}


# --- idempotence and tokens ------------------------------------------------------------------


def test_publishing_twice_and_running_a_batch_twice_push_once(run, mobility):
    device = phone(follows=[mobility])
    works = publish(run, WorksFactory(category=mobility, notify=True))
    assert run(services.item_notify, item=works) is None  # same key: nothing new
    delivery = Delivery.objects.get()
    assert services.deliveries_send(ids=[delivery.pk]).claimed == 0  # already sent
    assert pushed_tokens() == [device.push_token]


def test_a_token_moved_to_a_new_install_is_pushed_once(run, mobility):
    old = phone(follows=[mobility])
    token = old.push_token
    new, _bearer = device_register(platform="android", push_token=token)  # reinstalled app
    phone_places = phone(follows=[mobility], token="unrelated-" + "z" * 40)
    Device.objects.filter(pk=phone_places.pk).update(push_token=None)
    from apps.residents.models import CategoryFollow, Place

    Place.objects.create(device=new, label="home", location=old.places.get().location, radius_m=500)
    CategoryFollow.objects.create(device=new, category=mobility)
    publish(run, WorksFactory(category=mobility, notify=True))
    assert pushed_tokens() == [token]
    assert Delivery.objects.get().device_id == new.pk


def test_a_token_moved_after_targeting_is_skipped_not_pushed_twice(
    run, mobility, django_capture_on_commit_callbacks
):
    first = phone(follows=[mobility])
    second = phone(follows=[mobility])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        content_publish(item=WorksFactory(category=mobility, notify=True))
    device_register(platform="ios", push_token=first.push_token)  # moves first's token away
    for callback in callbacks:
        callback()
    assert pushed_tokens() == [second.push_token]
    skipped = Delivery.objects.get(device=first)
    assert (skipped.status, skipped.reason) == (DeliveryStatus.SKIPPED, Reason.NO_TOKEN)


def test_items_withdrawn_before_sending_are_skipped(mobility, django_capture_on_commit_callbacks):
    phone(follows=[mobility])
    works = WorksFactory(category=mobility, notify=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        content_publish(item=works)
    content_archive(item=works)
    for callback in callbacks:
        callback()
    assert pushed_tokens() == []
    assert Delivery.objects.get().reason == Reason.EXPIRED


# --- updates -------------------------------------------------------------------------------


def test_cancelling_an_event_updates_everyone_who_got_it(run, culture):
    from apps.events.services import event_cancel

    near = phone(follows=[culture])
    event = publish(run, EventFactory(category=culture, notify=True))
    moved_away = phone(at=FAR, follows=[culture])
    Delivery.objects.create(  # received the first push, then moved their place away
        notification=Notification.objects.get(), device=moved_away, status=DeliveryStatus.SENT
    )
    get_gateway().clear()
    run(event_cancel, event=event)
    update = Notification.objects.get(kind=Kind.UPDATE)
    assert update.tag == f"events-{event.pk}"
    assert sorted(pushed_tokens()) == sorted([near.push_token, moved_away.push_token])
    assert pushes()[0].title.startswith("Annulé")
    assert pushes()[0].tag == f"events-{event.pk}"


def test_non_material_edits_send_no_update(run, mobility):
    from apps.core.services import content_save

    phone(follows=[mobility])
    works = publish(run, WorksFactory(category=mobility, notify=True))
    works.refresh_from_db()
    works.summary_fr = "Un autre chapeau"
    run(content_save, item=works)
    assert Notification.objects.count() == 1


# --- quiet hours -----------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_quiet_hours_hold_until_the_window_ends_in_the_device_zone(run, mobility):
    quiet = dict(quiet_hours_start=time(22), quiet_hours_end=time(7))
    paris = phone(follows=[mobility], timezone="Europe/Paris", **quiet)  # 13:00: awake
    auckland = phone(follows=[mobility], timezone="Pacific/Auckland", **quiet)  # 01:00: asleep
    publish(run, WorksFactory(category=mobility, notify=True))
    assert pushed_tokens() == [paris.push_token]
    held = Delivery.objects.get(device=auckland)
    assert held.status == DeliveryStatus.HELD
    assert held.not_before == datetime(2026, 12, 2, 18, 0, tzinfo=UTC)  # 07:00 in Auckland
    with time_machine.travel(datetime(2026, 12, 2, 17, 59, tzinfo=UTC), tick=False):
        assert run(services.deliveries_sweep)["released"] == 0
    with time_machine.travel(datetime(2026, 12, 2, 18, 0, 30, tzinfo=UTC), tick=False):
        assert run(services.deliveries_sweep)["released"] == 1
    assert pushed_tokens() == [paris.push_token, auckland.push_token]
    held.refresh_from_db()
    assert held.status == DeliveryStatus.SENT


@time_machine.travel(T0, tick=False)
def test_alerts_and_test_pushes_ignore_quiet_hours(run, mobility):
    asleep = phone(
        follows=[mobility],
        timezone="Pacific/Auckland",
        quiet_hours_start=time(22),
        quiet_hours_end=time(7),
    )
    publish(run, WorksFactory(category=mobility, notify=True, urgency=Urgency.ALERT))
    assert pushed_tokens() == [asleep.push_token]
    delivery = run(services.device_test_push, device=asleep)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert pushes()[-1].tag == "test"


# --- the daily cap and digest ------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_the_daily_cap_turns_the_excess_into_one_digest(run, mobility):
    device = phone(follows=[mobility], max_pushes_per_day=2)
    for n in range(4):
        publish(run, WorksFactory(category=mobility, notify=True, title_fr=f"Chantier {n}"))
    assert len(pushed_tokens()) == 2
    capped = Delivery.objects.filter(device=device, reason=Reason.CAPPED)
    assert capped.count() == 2
    digest = Notification.objects.get(kind=Kind.DIGEST)
    assert digest.text_for("fr") == {
        "title": "2 autres informations aujourd'hui",
        "body": "Chantier 2 · Chantier 3",
    }
    assert digest.text_for("en")["title"] == "2 more updates today"
    pending = digest.deliveries.get()
    assert pending.status == DeliveryStatus.HELD
    assert pending.not_before == datetime(2026, 12, 2, 17, 30, tzinfo=UTC)  # 18:30 in Paris
    # Alerts are never capped.
    publish(run, WorksFactory(category=mobility, notify=True, urgency=Urgency.ALERT))
    assert len(pushed_tokens()) == 3
    with time_machine.travel(datetime(2026, 12, 2, 17, 31, tzinfo=UTC), tick=False):
        run(services.deliveries_sweep)
    assert pushes()[-1].title == "2 autres informations aujourd'hui"
    assert pushes()[-1].tag == "digest"
    # A new local day: the counter starts again.
    with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), tick=False):
        publish(run, WorksFactory(category=mobility, notify=True))
    assert len(pushed_tokens()) == 5


# --- reminders -------------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_saved_event_reminders(run, culture):
    event = EventFactory(category=culture, start_at=T0 + timedelta(hours=2))
    later = EventFactory(category=culture, start_at=T0 + timedelta(days=2))
    for item in (event, later):
        event_save(event=item)  # materialises the occurrences
    publish(run, event)
    publish(run, later)
    saver = phone(at=None)
    opted_out = phone(at=None, remind_saved_events=False)
    phone(at=None)  # saved nothing
    for device in (saver, opted_out):
        SavedItem.objects.create(device=device, item_type="events", item_id=event.pk)
        SavedItem.objects.create(device=device, item_type="events", item_id=later.pk)
    assert run(services.reminders_run) == {"events": 1, "works": 0}
    assert pushed_tokens() == [saver.push_token]
    assert pushes()[0].title == f"Bientôt : {event.title_fr}"
    assert Delivery.objects.get(notification__kind=Kind.REMINDER).why == {"saved": True}
    assert run(services.reminders_run) == {"events": 0, "works": 0}  # idempotent
    assert len(pushed_tokens()) == 1


def test_roadworks_reminders_the_evening_before_near_home(run, mobility):
    tomorrow_8 = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=UTC), tick=False):
        works = publish(
            run,
            WorksFactory(
                category=mobility, start_at=tomorrow_8, end_at=tomorrow_8 + timedelta(days=3)
            ),
        )
        home = phone()
        phone(label="work")  # near the works, but it is their workplace
        phone(remind_works_near_home=False)
        phone(at=FAR)
        # 1.5 km away with a 2 km radius: the works reach its place, but it is not "near home".
        phone(at=(CENTRE_LON - 0.0193, CENTRE_LAT), radius_m=2000)
        assert run(services.reminders_run) == {"events": 0, "works": 0}  # 11:00: too early
    with time_machine.travel(datetime(2026, 12, 2, 17, 30, tzinfo=UTC), tick=False):  # 18:30
        assert run(services.reminders_run) == {"events": 0, "works": 1}
        assert run(services.reminders_run) == {"events": 0, "works": 0}
    assert pushed_tokens() == [home.push_token]
    assert pushes()[0].tag == f"works-{works.pk}"
    assert pushes()[0].title == "Travaux demain près de chez vous"


# --- scheduled sends and recovery ------------------------------------------------------------


def test_a_scheduled_item_is_pushed_when_the_lifecycle_tick_publishes_it(run, mobility):
    device = phone(follows=[mobility])
    works = WorksFactory(category=mobility, notify=True)
    with time_machine.travel(T0, tick=False):
        content_schedule(item=works, publish_at=T0 + timedelta(minutes=30))
        assert run(content_lifecycle_run)["published"] == 0
    assert pushed_tokens() == []
    with time_machine.travel(T0 + timedelta(minutes=31), tick=False):
        assert run(content_lifecycle_run)["published"] == 1
    assert pushed_tokens() == [device.push_token]


def test_a_late_scheduled_send_alarms(mobility, caplog):
    works = WorksFactory(category=mobility, notify=True)
    with time_machine.travel(T0, tick=False):
        content_schedule(item=works, publish_at=T0 + timedelta(minutes=1))
    with (
        time_machine.travel(T0 + timedelta(minutes=10), tick=False),
        caplog.at_level(logging.ERROR),
    ):
        assert services.deliveries_sweep()["late"] == 1
    assert "is celery beat running" in caplog.text
    works.refresh_from_db()
    assert works.status == Status.SCHEDULED


def test_the_sweeper_recovers_stuck_and_lost_deliveries_once(run, mobility, settings):
    settings.NOTIFY_STUCK_SENDING_S = 60
    settings.NOTIFY_STUCK_PENDING_S = 60
    devices = [phone(follows=[mobility]) for _ in range(4)]
    works = WorksFactory(category=mobility, notify=True)
    with time_machine.travel(T0, tick=False):
        content_publish(item=works)  # on-commit enqueue never runs: the broker "lost" it
        rows = list(Delivery.objects.order_by("device_id"))
        dead_worker, fresh_claim = rows[0], rows[1]
        Delivery.objects.filter(pk=dead_worker.pk).update(
            status=DeliveryStatus.SENDING, claimed_at=T0 - timedelta(minutes=5), attempts=1
        )
        Delivery.objects.filter(pk=fresh_claim.pk).update(
            status=DeliveryStatus.SENDING, claimed_at=T0, attempts=1
        )
        assert run(services.deliveries_sweep) == {
            "released": 0,
            "recovered": 1,
            "lost": 0,
            "failed": 0,
            "late": 0,
        }
        # Lost pending rows wait for NOTIFY_STUCK_PENDING_S after being enqueued.
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        # The other claim is now stuck too; the two pending rows were never enqueued.
        assert run(services.deliveries_sweep) == {
            "released": 0,
            "recovered": 1,
            "lost": 2,
            "failed": 0,
            "late": 0,
        }
        assert run(services.deliveries_sweep) == {
            "released": 0,
            "recovered": 0,
            "lost": 0,
            "failed": 0,
            "late": 0,
        }
    assert sorted(pushed_tokens()) == sorted(d.push_token for d in devices)
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 4


# --- payload ---------------------------------------------------------------------------------


def test_the_longest_item_text_fits_the_payload_limit(mobility):
    works = WorksFactory.build(
        category=mobility, title_fr="🚧" * 200, summary_fr="é" * 500, title_en="W" * 200
    )
    for language, text in new_texts(works).items():
        push = OutgoingPush(
            token="t" * 250,
            title=text["title"],
            body=text["body"],
            tag="works-99999999999",
            data={"kind": "update", "notification_id": "9" * 12, "type": "works", "id": "9" * 12},
            language=language,
        )
        assert payload_size(push) <= MAX_PAYLOAD_BYTES


def test_an_oversized_payload_fails_the_delivery_and_keeps_the_token(run, mobility):
    device = phone(follows=[mobility])
    notification = Notification.objects.create(
        key="oversized", kind=Kind.TEST, texts={"fr": {"title": "x", "body": "é" * 3000}}
    )
    delivery = Delivery.objects.create(notification=notification, device=device)
    report = services.deliveries_send(ids=[delivery.pk])
    assert report.failed == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.reason) == (DeliveryStatus.FAILED, Reason.INVALID_PAYLOAD)
    device.refresh_from_db()
    assert device.push_token_active
    assert pushed_tokens() == []


def test_batches_are_limited_to_500():
    with pytest.raises(ValueError):
        services.deliveries_send(ids=list(range(501)))


def test_square_helper_used():  # keeps the shared factory import honest
    assert square(CENTRE_LON, CENTRE_LAT, 0.01).valid
    assert CategoryFactory is not None
