"""DiaLog's answers → what the outbox does (``apps.interop.dialog.policy``, pure), and the
encryption of the client secrets."""

from __future__ import annotations

import random

import pytest

from apps.interop.dialog import policy
from apps.interop.dialog.policy import Verdict


def decide(status, data=None, *, method="POST", attempts=1, max_attempts=10, **kw):
    return policy.decide(
        method=method,
        status=status,
        data=data or {},
        attempts=attempts,
        max_attempts=max_attempts,
        base_s=2.0,
        rng=random.Random(1),
        **kw,
    )


@pytest.mark.parametrize("status", [200, 201, 204])
def test_policy_success(status):
    assert decide(status).verdict is Verdict.DONE


def test_policy_404_is_done_for_a_delete_and_a_recreate_otherwise():
    assert decide(404, method="DELETE").verdict is Verdict.DONE
    assert decide(404, method="PUT").verdict is Verdict.RECREATE


def test_policy_422_is_refused_with_the_french_violations():
    data = {
        "status": 422,
        "detail": "Validation failed",
        "violations": [{"propertyPath": "title", "title": "Cette valeur est trop longue."}] * 30,
    }
    decision = decide(422, data)
    assert decision.verdict is Verdict.REJECTED
    assert decision.message.startswith("DiaLog a refusé l'arrêté (données invalides) : title : ")
    assert len(decision.violations) == policy.MAX_VIOLATIONS


def test_policy_400_is_refused_with_the_detail():
    decision = decide(400, {"status": 400, "detail": "Le géocodage de la voie a échoué."})
    assert decision.verdict is Verdict.REJECTED
    assert decision.message == "DiaLog a refusé l'arrêté : Le géocodage de la voie a échoué."


def test_policy_401_waits_ten_minutes():
    decision = decide(401, {"message": "Unauthorized"})
    assert (decision.verdict, decision.delay_s) == (Verdict.RETRY, 600)
    assert "identifiants" in decision.message


@pytest.mark.parametrize(("status", "failure"), [(500, ""), (503, ""), (429, ""), (0, "timeout")])
def test_policy_transient_errors_back_off_and_end(status, failure):
    delays = [decide(status, failure=failure, attempts=n).delay_s for n in range(1, 10)]
    assert delays[0] <= 2 and delays[3] >= 8
    assert max(delays) <= policy.MAX_DELAY_S
    assert decide(status, failure=failure, attempts=10).verdict is Verdict.FAILED


def test_policy_never_retries_sooner_than_retry_after():
    assert decide(503, retry_after_s=90).delay_s == 90


def test_secret_survives_a_key_rotation_through_the_fallbacks(settings):
    from apps.interop.dialog.secrets import (
        SecretUnreadableError,
        secret_decrypt,
        secret_encrypt,
    )

    token = secret_encrypt("s3cret")
    assert "s3cret" not in token
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "another-key-" + "x1y2z3" * 10
    with pytest.raises(SecretUnreadableError):
        secret_decrypt(token)
    settings.SECRET_KEY_FALLBACKS = [old]
    assert secret_decrypt(token) == "s3cret"
