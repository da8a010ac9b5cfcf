"""The disclosure control every staff count goes through: rounding, masking, keys."""

from __future__ import annotations

import random

import pytest
from django.db.models import Q

from apps.core.disclosure import (
    BASE,
    KEY_MODULUS,
    Cell,
    DistinctDevicesCell,
    K,
    Relation,
    Shown,
    cell_key,
    cell_unpack,
    count_round,
    device_key,
    device_key_of,
    disclose,
    key_sum,
    keys_combined,
    suppressed,
)
from apps.core.geo import point
from apps.residents.models import Device, Place
from tests.residents.factories import make_resident


def test_count_round_keeps_multiples_and_picks_a_neighbour_otherwise():
    keys = random.Random(1).sample(range(KEY_MODULUS), 200)
    for count in range(60):
        shown = {count_round(count=count, key=key) for key in keys}
        low = count - count % BASE
        assert shown == ({count} if count % BASE == 0 else {low, low + BASE})


def test_count_round_is_unbiased_over_keys():
    keys = random.Random(2).sample(range(KEY_MODULUS), 20_000)
    for count in (6, 7, 8, 9, 1241):
        mean = sum(count_round(count=count, key=key) for key in keys) / len(keys)
        assert abs(mean - count) < 0.1


def test_count_round_is_the_same_for_the_same_key():
    assert len({count_round(count=7, key=123_456_789) for _ in range(10)}) == 1


def test_suppressed_masks_the_part_a_total_would_give_away():
    # the case: total 6, Le Moulin 5, Bellevue 1
    cells = {"total": Cell(6), "moulin": Cell(5), "bellevue": Cell(1)}
    relation = Relation("total", ("moulin", "bellevue"))

    assert suppressed(cells, [relation]) == {"moulin", "bellevue"}
    assert suppressed(cells) == {"bellevue"}  # without the relation, only the small one


def test_suppressed_masks_the_smallest_shown_part_first():
    cells = {"t": Cell(40), "a": Cell(20), "b": Cell(8), "c": Cell(10), "d": Cell(2)}

    assert suppressed(cells, [Relation("t", ("a", "b", "c", "d"))]) == {"b", "d"}


def test_suppressed_leaves_masked_parts_adding_up_to_zero_or_k():
    enough = {"t": Cell(23), "a": Cell(13), "b": Cell(4), "c": Cell(3), "d": Cell(3)}
    zeros = {"t": Cell(13), "a": Cell(13), "b": Cell(0)}

    assert suppressed(enough, [Relation("t", ("a", "b", "c", "d"))]) == {"b", "c", "d"}
    assert suppressed(zeros, [Relation("t", ("a", "b"))]) == {"b"}


def test_suppressed_counts_the_remainder_no_part_shows():
    # 1,000 devices, 998 reachable: "reachable" would tell that 2 cannot be reached
    cells = {"total": Cell(1000), "reachable": Cell(998)}

    assert suppressed(cells, [Relation("total", ("reachable",))]) == {"reachable"}
    cells["reachable"] = Cell(990)
    assert suppressed(cells, [Relation("total", ("reachable",))]) == set()


def test_suppressed_follows_a_mask_from_one_relation_to_the_next():
    # targeted = sent + failed; failed = its reasons: masking "sent" for "failed" (3) is
    # enough; a total masked with all its parts shown would be their sum, so one goes too
    cells = {
        "targeted": Cell(30),
        "sent": Cell(27),
        "failed": Cell(3),
        "dead": Cell(3),
        "other": Cell(0),
    }
    relations = [Relation("targeted", ("sent", "failed")), Relation("failed", ("dead", "other"))]

    assert suppressed(cells, relations) == {"sent", "failed", "dead", "other"}
    # "a" masked for "c" in the first relation: the second would give it back as a1 + a2
    cells = {
        "t": Cell(40),
        "a": Cell(12),
        "b": Cell(26),
        "c": Cell(2),
        "a1": Cell(6),
        "a2": Cell(6),
    }
    relations = [Relation("t", ("a", "b", "c")), Relation("a", ("a1", "a2"))]
    assert suppressed(cells, relations) == {"c", "a", "a1"}


def test_disclose_rounds_what_it_shows():
    shown = disclose({"t": Cell(1241, key=5), "a": Cell(2)}, [Relation("t", ("a",))])

    assert shown["a"].masked
    assert shown["t"].value in (1240, 1245)
    assert str(Shown(None)) == "masqué"


def test_disclosure_constants_are_k_and_a_base_of_k():
    assert K == 5
    assert BASE == K


@pytest.mark.django_db
def test_device_key_in_sql_is_the_same_as_in_python():
    devices = [make_resident().device for _ in range(6)]
    with_keys = Device.objects.annotate(key=device_key("pk")).values_list("pk", "key")

    assert {pk: key for pk, key in with_keys} == {d.pk: device_key_of(d.pk) for d in devices}
    for pk in (1, 2**31, 2**62 + 12345):  # ids up to bigint fit the arithmetic
        assert 0 <= device_key_of(pk) < KEY_MODULUS
    total = Device.objects.aggregate(
        key=key_sum("pk", filter=Q(pk__in=[d.pk for d in devices[:4]]))
    )["key"]
    assert cell_key(total) == keys_combined(device_key_of(d.pk) for d in devices[:4])


@pytest.mark.django_db
def test_device_key_depends_on_the_secret_key(settings):
    before = device_key_of(42)
    settings.SECRET_KEY = "une-autre-clé-secrète-" * 3

    assert device_key_of(42) != before


@pytest.mark.django_db(databases=["default", "spatialite"])
def test_device_key_and_cells_are_the_same_on_spatialite():
    """The embedded database (make run) computes the same keys and packed cells."""
    for alias in ("default", "spatialite"):
        devices = [
            Device.objects.using(alias).create(platform="android", token_hash=f"lite-{alias}-{i}")
            for i in range(3)
        ]
        for device in devices:
            for label in ("home", "work"):  # two places: one device
                Place.objects.using(alias).create(
                    device=device, label=label, location=point(4.83, 45.76), radius_m=500
                )
        places = Place.objects.filter(device_id__in=[d.pk for d in devices])
        rows = (
            Device.objects.using(alias)
            .filter(pk=devices[0].pk)
            .annotate(key=device_key("pk"), cell=DistinctDevicesCell(places))
            .values_list("key", "cell")
        )
        key, packed = rows.get()
        assert key == device_key_of(devices[0].pk)
        assert cell_unpack(packed) == Cell(3, keys_combined(device_key_of(d.pk) for d in devices))
