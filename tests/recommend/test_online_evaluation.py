"""Online evaluation through the API: interleaved feeds, credited clicks, counters, rollback.

The acceptance simulation (issue 18, point 2): rankers of known different quality, simulated
residents who open items by a hidden utility (nearness to their home) through the real feed
and interactions endpoints, the nightly counting, then the counters' verdict and, for a
deliberately worse model, the rollback.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.recommend.engine.interleaving import BETTER, REFERENCE, SERVED, WORSE
from apps.recommend.models import Interaction, OnlineComparison, RankerRollback
from apps.recommend.online.interleaving import token_open
from apps.recommend.selectors import online_result, ranking_notice
from apps.recommend.services import online_comparisons_aggregate, online_evaluation_daily
from apps.recommend.store import ModelStore
from tests.factories import UserFactory
from tests.recommend.feed_support import URL, add_place, consenting, news, refs
from tests.recommend.online_support import (
    INTERACTIONS,
    deploy,
    simulate,
    simulated_city,
)
from tests.residents.factories import make_resident

pytestmark = pytest.mark.django_db

ALPHA = 0.01


@pytest.fixture
def store(settings, model_dir) -> ModelStore:
    """Every personal first page interleaved; a verdict needs 30 decided requests at 1 %."""
    settings.FEED_INTERLEAVING_SHARE = 1.0
    settings.ONLINE_EVAL_ALPHA = ALPHA
    settings.ONLINE_EVAL_MIN_COMPARISONS = 30
    return ModelStore(model_dir)


def tomorrow():
    return timezone.localdate() + timedelta(days=1)


def test_online_evaluation_counters_pick_the_better_ranker(store, settings):
    settings.FEED_INTERLEAVING_REFERENCE = "previous"
    worse = deploy(store, nearer_is_better=False, minute=1)
    better = deploy(store, nearer_is_better=True, minute=2)
    people, where = simulated_city(residents=16, items=60, seed=3)

    bodies = simulate(people, where, sessions=6, seed=4)

    assert {body["ranker"] for body in bodies} == {better}
    marks = [token_open(item["ranker"]) for body in bodies for item in body["results"]]
    assert {(m.served, m.reference) for m in marks} == {(better, worse)}
    assert {m.team for m in marks} == {SERVED, REFERENCE}
    requests = Interaction.objects.values("interleave_request").distinct().count()
    assert online_evaluation_daily(today=tomorrow()) == requests

    [day] = OnlineComparison.objects.all()
    assert (day.day, day.ranker, day.reference) == (timezone.localdate(), better, worse)
    assert day.impressions == requests
    assert day.wins + day.losses + day.ties <= day.impressions
    [result] = online_result()
    c = result.comparison
    assert (result.ranker, result.reference) == (better, worse)
    assert (c.wins, c.losses, c.ties) == (day.wins, day.losses, day.ties)
    # The better ranker, with the stated confidence: the 99 % interval is above one half.
    assert c.verdict == BETTER
    assert c.p_value < ALPHA and c.ci_low > 0.5, c
    assert c.decided >= settings.ONLINE_EVAL_MIN_COMPARISONS
    # A better model stays.
    assert store.latest_version() == better and not RankerRollback.objects.exists()
    # Its online result is in its sidecar, where the public ranking notice reads it.
    online = ranking_notice().online
    assert online is not None and store.load().version == better
    assert (online["method"], online["reference"], online["verdict"]) == (
        "interleaving",
        worse,
        "better",
    )
    assert (online["wins"], online["losses"], online["requests"]) == (c.wins, c.losses, requests)
    assert online["ci_low"] == round(c.ci_low, 4) and online["confidence"] == 0.99

    # Counting again is idempotent; clicks after the fact change only their own day.
    online_comparisons_aggregate(day=timezone.localdate())
    day2 = OnlineComparison.objects.get()
    assert (day2.wins, day2.losses, day2.ties) == (day.wins, day.losses, day.ties)


def test_rankers_of_equal_quality_are_not_told_apart(store, settings):
    """An A/A test: two models that rank alike. Clicks fall to either team by the coin of the
    draft, so the counters see no difference (a false alarm has probability 0.1 % here) and
    nothing is rolled back."""
    settings.FEED_INTERLEAVING_REFERENCE = "previous"
    settings.ONLINE_EVAL_ALPHA = 0.001
    first = deploy(store, nearer_is_better=True, minute=1)
    second = deploy(store, nearer_is_better=True, minute=2)
    people, where = simulated_city(residents=16, items=60, seed=9)
    simulate(people, where, sessions=5, seed=10)
    online_evaluation_daily(today=tomorrow())

    [result] = online_result()
    assert (result.ranker, result.reference) == (second, first)
    assert result.comparison.decided >= 20
    assert result.comparison.verdict != WORSE and result.comparison.verdict != BETTER
    assert result.comparison.ci_low < 0.5 < result.comparison.ci_high
    assert not RankerRollback.objects.exists() and store.latest_version() == second


def test_a_deliberately_worse_model_is_rolled_back_and_the_staff_told(store, settings):
    settings.FEED_INTERLEAVING_REFERENCE = "nearest"
    admin = UserFactory(username="admin", is_superuser=True, email="admin@ville.example")
    UserFactory(username="editor", email="editor@ville.example")  # staff, not superuser
    good = deploy(store, nearer_is_better=True, minute=1)
    bad = deploy(store, nearer_is_better=False, minute=2)
    people, where = simulated_city(residents=16, items=60, seed=5)

    bodies = simulate(people, where, sessions=5, seed=6)
    assert {body["ranker"] for body in bodies} == {bad}
    online_evaluation_daily(today=tomorrow())

    [result] = online_result()
    assert (result.ranker, result.reference) == (bad, "nearest")
    assert result.comparison.verdict == WORSE and result.comparison.ci_high < 0.5
    rollback = RankerRollback.objects.get()
    assert (rollback.version, rollback.reference, rollback.restored) == (bad, "nearest", good)
    assert rollback.losses > rollback.wins and rollback.p_value < ALPHA
    # The store serves the predecessor, says why it does not serve the worse one, and the
    # feed follows at once.
    assert store.latest_version() == good
    assert store.load_version(bad).fallback_reason.startswith("rolled back: significantly worse")
    assert store.rolled_back(bad)["losses"] == rollback.losses
    assert people[0].resident.client.get(URL).json()["ranker"] == good
    # The superusers are told by e-mail.
    [message] = mail.outbox
    assert message.to == [admin.email]
    assert bad in message.subject and "nettement moins bien" in message.body

    # Nothing more the next night: the predecessor has no counters against it.
    online_evaluation_daily(today=tomorrow())
    assert RankerRollback.objects.count() == 1 and len(mail.outbox) == 1


def test_a_model_without_predecessor_rolls_back_to_stage1(store, settings):
    settings.FEED_INTERLEAVING_REFERENCE = "nearest"
    deploy(store, nearer_is_better=False, minute=1)
    people, where = simulated_city(residents=16, items=60, seed=7)
    simulate(people, where, sessions=5, seed=8)
    online_evaluation_daily(today=tomorrow())

    assert RankerRollback.objects.get().restored == "stage1"
    assert store.load().fallback_reason.startswith("rolled back")
    assert people[1].resident.client.get(URL).json()["ranker"] == "stage1"
    # A model trained since gets its chance.
    fresh = deploy(store, nearer_is_better=True, minute=5)
    assert people[1].resident.client.get(URL).json()["ranker"] == fresh


def test_interleaved_pages_are_one_order_across_the_cursor(store, settings):
    settings.FEED_INTERLEAVING_REFERENCE = "nearest"
    for k in range(30):
        news(150 * k, 40 * (k % 5))
    resident = consenting()
    add_place(resident, 2000, 0)
    first = resident.client.get(URL, {"page_size": 10}).json()
    second = resident.client.get(first["next"]).json()
    marks = [token_open(i["ranker"]) for i in first["results"] + second["results"]]
    assert len({m.request for m in marks}) == 1  # one snapshot, one request
    again = resident.client.get(first["next"]).json()
    assert [i["ranker"] for i in again["results"]] == [i["ranker"] for i in second["results"]]
    assert refs(again) == refs(second)
    assert not set(refs(first)) & set(refs(second))
    # A new first page is a new interleaved request.
    other = resident.client.get(URL, {"page_size": 10}).json()
    assert token_open(other["results"][0]["ranker"]).request != marks[0].request


def test_only_personal_feeds_are_interleaved(store, settings):
    news(100)
    news(300)
    anonymous = make_resident().client.get(URL, {"lat": 45.764, "lon": 4.8357}).json()
    assert anonymous["results"] and not any("ranker" in i for i in anonymous["results"])
    settings.FEED_INTERLEAVING_SHARE = 0.0
    resident = consenting()
    add_place(resident)
    body = resident.client.get(URL).json()
    assert body["personalized"] and not any("ranker" in i for i in body["results"])


def test_a_bad_ranker_token_is_a_400_and_stores_nothing(store):
    item = news(100)
    resident = consenting()
    add_place(resident)
    token = resident.client.get(URL).json()["results"][0]["ranker"]
    event = {
        "type": "news",
        "id": item.pk,
        "action": "open",
        "context": "feed",
        "at": timezone.now().isoformat(),
    }
    for bad in (token[:-2] + "xx", "a" * 201, token.replace(":", ".", 1), ""):
        body = {"events": [{**event, "event_id": str(uuid.uuid4()), "ranker": bad}]}
        response = resident.client.post(INTERACTIONS, body, format="json")
        assert response.status_code == 400, bad
        assert list(response.json()["fields"]) == ["events.0.ranker"], response.json()
    assert not Interaction.objects.exists()
    # Without a token (older apps) and with the feed's, both are stored.
    for extra in ({}, {"ranker": token}):
        body = {"events": [{**event, "event_id": str(uuid.uuid4()), **extra}]}
        assert resident.client.post(INTERACTIONS, body, format="json").status_code == 202
    assert sorted(Interaction.objects.values_list("interleave_team", flat=True), key=str) == [
        token_open(token).team,
        None,
    ]


def test_devices_without_consent_count_for_nothing(store):
    item = news(100)
    resident = consenting()
    add_place(resident)
    token = resident.client.get(URL).json()["results"][0]["ranker"]
    refusing = make_resident(personalization_consent=False)
    event = {
        "type": "news",
        "id": item.pk,
        "action": "open",
        "context": "feed",
        "at": timezone.now().isoformat(),
        "event_id": str(uuid.uuid4()),
        "ranker": token,
    }
    response = refusing.client.post(INTERACTIONS, {"events": [event]}, format="json")
    assert response.status_code == 202 and response.json()["logged"] is False
    assert online_comparisons_aggregate(day=timezone.localdate()) == 0
    assert not OnlineComparison.objects.exists()


def test_marks_are_cleared_once_their_day_is_counted_for_good(store):
    item = news(100)
    resident = consenting()
    add_place(resident)
    token = resident.client.get(URL).json()["results"][0]["ranker"]
    event = {
        "type": "news",
        "id": item.pk,
        "action": "open",
        "context": "feed",
        "at": timezone.now().isoformat(),
        "event_id": str(uuid.uuid4()),
        "ranker": token,
    }
    resident.client.post(INTERACTIONS, {"events": [event]}, format="json")
    online_evaluation_daily(today=tomorrow())
    counted = OnlineComparison.objects.get()
    assert counted.impressions == 1 and counted.wins + counted.losses == 1
    assert Interaction.objects.filter(interleave_request__isnull=False).count() == 1
    online_evaluation_daily(today=tomorrow() + timedelta(days=2))
    row = Interaction.objects.get()
    assert (row.interleave_request, row.interleave_team, row.interleave_pair) == (None, None, None)
    assert OnlineComparison.objects.get().wins == counted.wins  # the counters stay
