"""The pipeline's decisions (``apps.notifications.policy``) as plain functions: no database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from apps.core.models import Urgency
from apps.notifications import policy
from apps.notifications.gateway.push import MAX_RETRY_DELAY_S, Outcome, PushResult
from apps.notifications.models import Kind, Reason
from apps.notifications.policy import After, Before, Candidate, CapEntry, Verdict

MAX = 5
# 12:00 in Paris on a winter day: outside the quiet hours used below.
NOON = datetime(2026, 1, 15, 11, 0, tzinfo=UTC)
# 23:00 in Paris: inside 22:00 → 07:00.
NIGHT = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
QUIET = {"quiet_start": time(22, 0), "quiet_end": time(7, 0), "timezone": "Europe/Paris"}


def candidate(**overrides) -> Candidate:
    fields: dict[str, Any] = {
        "kind": Kind.NEW,
        "urgency": Urgency.INFO,
        "attempts": 0,
        "notifications_enabled": True,
        "live_token": True,
        "item_public": True,
        **QUIET,
    }
    fields.update(overrides)
    return Candidate(**fields)


def before(c: Candidate, now: datetime = NOON) -> Before:
    return policy.before_send(c, now=now, max_attempts=MAX)


def test_before_send_sends_a_row_with_nothing_against_it():
    assert before(candidate()) == Before(Verdict.SEND)


def test_before_send_fails_a_row_that_used_its_attempts():
    assert before(candidate(attempts=MAX)) == Before(Verdict.FAIL, Reason.RETRIES_EXHAUSTED)
    assert before(candidate(attempts=MAX - 1)).verdict is Verdict.SEND


def test_before_send_skips_why():
    assert before(candidate(notifications_enabled=False)) == Before(Verdict.SKIP, Reason.DISABLED)
    assert before(candidate(live_token=False)) == Before(Verdict.SKIP, Reason.NO_TOKEN)
    assert before(candidate(item_public=False)) == Before(Verdict.SKIP, Reason.EXPIRED)


def test_before_send_checks_in_order_attempts_switch_token_item():
    """A row with every fault gets the first reason: exhausted, then disabled, then token."""
    worst = {"notifications_enabled": False, "live_token": False, "item_public": False}
    assert before(candidate(attempts=MAX, **worst)).reason is Reason.RETRIES_EXHAUSTED
    assert before(candidate(**worst)).reason is Reason.DISABLED
    assert before(candidate(live_token=False, item_public=False)).reason is Reason.NO_TOKEN


def test_before_send_ignores_the_item_of_kinds_without_one():
    for kind in (Kind.TEST, Kind.DIGEST):
        assert before(candidate(kind=kind, item_public=False)).verdict is Verdict.SEND


def test_before_send_holds_until_the_quiet_hours_end():
    decision = before(candidate(), now=NIGHT)
    assert decision.verdict is Verdict.HOLD
    assert decision.until == datetime(2026, 1, 16, 6, 0, tzinfo=UTC)  # 07:00 in Paris


def test_before_send_lets_alerts_and_tests_through_quiet_hours():
    assert before(candidate(urgency=Urgency.ALERT), now=NIGHT).verdict is Verdict.SEND
    assert before(candidate(kind=Kind.TEST), now=NIGHT).verdict is Verdict.SEND
    assert before(candidate(urgency=Urgency.IMPORTANT), now=NIGHT).verdict is Verdict.HOLD


def test_before_send_without_quiet_hours_never_holds():
    c = candidate(quiet_start=None, quiet_end=None)
    assert before(c, now=NIGHT).verdict is Verdict.SEND


@given(
    attempts=st.integers(0, 10),
    enabled=st.booleans(),
    token=st.booleans(),
    public=st.booleans(),
    kind=st.sampled_from(list(Kind)),
    urgency=st.sampled_from(list(Urgency)),
    minutes=st.integers(0, 7 * 24 * 60),
)
def test_before_send_holds_only_into_the_future(
    attempts, enabled, token, public, kind, urgency, minutes
):
    now = NOON + timedelta(minutes=minutes)
    decision = before(
        candidate(
            attempts=attempts,
            notifications_enabled=enabled,
            live_token=token,
            item_public=public,
            kind=kind,
            urgency=urgency,
        ),
        now=now,
    )
    if decision.verdict is Verdict.HOLD:
        assert decision.until is not None
        assert now < decision.until <= now + timedelta(hours=9)  # the window is 9 h long
        assert urgency < Urgency.ALERT and kind != Kind.TEST
    else:
        assert decision.until is None
    assert (decision.verdict in (Verdict.SKIP, Verdict.FAIL)) == (decision.reason is not None)


def test_is_capped_spares_alerts_tests_and_digests():
    assert policy.is_capped(Kind.NEW, Urgency.IMPORTANT)
    assert policy.is_capped(Kind.REMINDER, Urgency.INFO)
    assert not policy.is_capped(Kind.NEW, Urgency.ALERT)
    assert not policy.is_capped(Kind.TEST, Urgency.INFO)
    assert not policy.is_capped(Kind.DIGEST, Urgency.INFO)


def daily_cap(entries: list[CapEntry], *, sent_today: dict[int, int]) -> list[bool]:
    """``policy.budget`` with only the day's counts: whether each entry is held back."""
    used = {device_id: policy.Used(today=count) for device_id, count in sent_today.items()}
    return [verdict is not None for verdict in policy.budget(entries, used=used)]


def test_daily_cap_lets_through_up_to_the_limit_counting_what_was_sent_today():
    entries = [CapEntry(device_id=1, limit=3, capped_kind=True)] * 3 + [
        CapEntry(device_id=2, limit=3, capped_kind=True)
    ]
    assert daily_cap(entries, sent_today={1: 1}) == [False, False, True, False]


def test_daily_cap_never_holds_back_an_uncapped_kind_nor_counts_it():
    entries = [
        CapEntry(device_id=1, limit=1, capped_kind=False),
        CapEntry(device_id=1, limit=1, capped_kind=True),
        CapEntry(device_id=1, limit=1, capped_kind=False),
        CapEntry(device_id=1, limit=1, capped_kind=True),
    ]
    assert daily_cap(entries, sent_today={}) == [False, False, False, True]


@given(
    sent=st.integers(0, 10),
    limit=st.integers(0, 10),
    rows=st.lists(st.booleans(), max_size=30),
)
def test_daily_cap_sends_at_most_the_rest_of_the_day(sent, limit, rows):
    entries = [CapEntry(device_id=7, limit=limit, capped_kind=capped) for capped in rows]
    over = daily_cap(entries, sent_today={7: sent})
    going = [e for e, o in zip(entries, over, strict=True) if not o and e.capped_kind]
    assert len(going) == min(sum(rows), max(0, limit - sent))
    assert all(not o for e, o in zip(entries, over, strict=True) if not e.capped_kind)


def after(outcome: Outcome, attempts: int = 1, **fields) -> After:
    result = PushResult("tok", outcome, **fields)
    return policy.after_result(result, attempts=attempts, max_attempts=MAX, rng=random.Random(4))


def test_after_result_sent():
    assert after(Outcome.SENT, message_id="m-1") == After(Verdict.SENT)


def test_after_result_dead_token_fails_and_deactivates():
    assert after(Outcome.DEAD_TOKEN, error_code="UNREGISTERED") == After(
        Verdict.FAIL, Reason.DEAD_TOKEN, "UNREGISTERED", deactivate_token=True
    )


def test_after_result_bad_payload_fails_and_keeps_the_token():
    decision = after(Outcome.INVALID_PAYLOAD, error_code="PAYLOAD_TOO_LARGE")
    assert decision == After(Verdict.FAIL, Reason.INVALID_PAYLOAD, "PAYLOAD_TOO_LARGE")
    assert not decision.deactivate_token


def test_after_result_auth_error_retries_later_with_the_alarm_code():
    decision = after(Outcome.AUTH_ERROR, error_code="THIRD_PARTY_AUTH_ERROR")
    assert decision == After(
        Verdict.RETRY, error_code="auth:THIRD_PARTY_AUTH_ERROR", delay_s=int(policy.AUTH_RETRY_S)
    )


def test_after_result_auth_error_fails_at_the_last_attempt():
    decision = after(Outcome.AUTH_ERROR, attempts=MAX, error_code="THIRD_PARTY_AUTH_ERROR")
    assert decision == After(Verdict.FAIL, Reason.AUTH_ERROR, "THIRD_PARTY_AUTH_ERROR")


def test_after_result_transient_and_quota_fail_when_the_attempts_are_used():
    for outcome in (Outcome.TRANSIENT, Outcome.QUOTA):
        decision = after(outcome, attempts=MAX, error_code="UNAVAILABLE")
        assert decision == After(Verdict.FAIL, Reason.RETRIES_EXHAUSTED, "UNAVAILABLE")


def test_after_result_quota_waits_at_least_retry_after():
    decision = after(Outcome.QUOTA, error_code="QUOTA_EXCEEDED", retry_after_s=30.2)
    assert decision.verdict is Verdict.RETRY
    assert 31 <= decision.delay_s <= 34  # 30.2 s plus up to 10 %, whole seconds rounded up


def test_after_result_truncates_the_error_code_to_the_column():
    decision = after(Outcome.TRANSIENT, error_code="E" * 60)
    assert decision.error_code == "E" * policy.ERROR_CODE_CHARS


@given(
    attempts=st.integers(1, MAX - 1),
    retry_after=st.none() | st.floats(0, 2 * MAX_RETRY_DELAY_S),
    outcome=st.sampled_from([Outcome.TRANSIENT, Outcome.QUOTA]),
    seed=st.integers(0, 2**32),
)
def test_after_result_retries_in_whole_seconds_never_before_retry_after(
    attempts, retry_after, outcome, seed
):
    result = PushResult("tok", outcome, retry_after_s=retry_after)
    decision = policy.after_result(
        result, attempts=attempts, max_attempts=MAX, rng=random.Random(seed)
    )
    assert decision.verdict is Verdict.RETRY
    assert isinstance(decision.delay_s, int)
    assert 1 <= decision.delay_s <= MAX_RETRY_DELAY_S
    assert decision.delay_s >= min(retry_after or 0, MAX_RETRY_DELAY_S)


def test_attempts_exhausted_is_the_claims_and_the_sweepers_limit():
    assert policy.attempts_exhausted(MAX, max_attempts=MAX)
    assert not policy.attempts_exhausted(MAX - 1, max_attempts=MAX)


def test_ttl_s_by_kind_then_urgency():
    assert policy.ttl_s(Kind.REMINDER, Urgency.ALERT) == 3 * 3600
    assert policy.ttl_s(Kind.NEW, Urgency.ALERT) == 6 * 3600
    assert policy.ttl_s(Kind.UPDATE, Urgency.INFO) == 24 * 3600
