"""The demo map: districts tile the commune, streets lie inside it, the same map every run."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from apps.demo.city import CityMap
from apps.demo.context import demo_data
from apps.demo.text import date_fr, span_fr, street_with_article, with_dates


@pytest.fixture(scope="module")
def city() -> CityMap:
    return CityMap(demo_data("city"))


def test_city_has_six_to_ten_valid_districts_with_insee_like_codes(city):
    assert 6 <= len(city.districts) <= 10
    assert city.commune.valid
    for district in city.districts:
        assert district.geometry.valid, district.slug
        assert district.code.startswith(city.code) and len(district.code) == 9
    assert len({d.slug for d in city.districts}) == len(city.districts)


def test_city_districts_tile_the_commune_without_gap_or_overlap(city):
    union = city.districts[0].geometry
    for district in city.districts[1:]:
        union = union.union(district.geometry)
    # Areas in square degrees: 1e-12 is about 0.01 m².
    assert union.sym_difference(city.commune).area < 1e-12
    for a, b in itertools.combinations(city.districts, 2):
        assert a.geometry.intersection(b.geometry).area < 1e-12, (a.slug, b.slug)
    assert sum(d.geometry.area for d in city.districts) == pytest.approx(city.commune.area)


def test_city_streets_lie_inside_the_commune(city):
    assert len(city.streets) >= 15
    for name in city.streets:
        assert city.commune.contains(city.street_section(name)), name


def test_city_street_section_is_the_asked_part_of_the_street(city):
    whole = city.street_section("rue de la République")
    part = city.street_section("rue de la République", 0.25, 0.75)

    assert part.length == pytest.approx(whole.length / 2, rel=0.02)
    assert whole.buffer(1e-6).contains(part)  # coordinates are rounded to 1e-7°
    assert city.street_point("rue de la République", 0.5).distance(part) < 1e-6


def test_city_map_is_the_same_on_every_build():
    first, second = CityMap(demo_data("city")), CityMap(demo_data("city"))

    assert first.commune.wkt == second.commune.wkt
    assert [d.geometry.wkt for d in first.districts] == [d.geometry.wkt for d in second.districts]


def test_city_rejects_a_street_outside_the_commune():
    data = {**demo_data("city"), "streets": {"route de nulle part": [[0, 0], [9000, 0]]}}
    with pytest.raises(ValueError, match="leaves the commune"):
        CityMap(data)


def test_text_dates_and_articles_read_as_french():
    assert date_fr(date(2026, 12, 1)) == "mardi 1er décembre"
    assert span_fr(date(2026, 11, 30), date(2026, 12, 2)) == (
        "du lundi 30 novembre au mercredi 2 décembre"
    )
    assert with_dates("Conseil du {date:2} / {date_en:2}", date(2026, 11, 29)) == (
        "Conseil du mardi 1er décembre / Tuesday 1 December"
    )
    assert street_with_article("rue Pasteur") == "la rue Pasteur"
    assert street_with_article("avenue Jean-Jaurès") == "l'avenue Jean-Jaurès"
    assert street_with_article("boulevard Victor-Hugo") == "le boulevard Victor-Hugo"
