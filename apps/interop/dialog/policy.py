"""What to do with DiaLog's answer to one request, as pure functions (no ORM, no I/O).

- 2xx: done.
- 404 to a ``DELETE``: done (already gone). 404 to an update or a publish: DiaLog does not
  hold the regulation: create it again at once (``RECREATE``).
- 400 (business error) and 422 (``violations``): refused, not retried; the French message is
  shown to the editor on the roadwork. Another 4xx: refused too.
- 401/403: our credentials: retried ``AUTH_RETRY_S`` later (someone fixes the link).
- 5xx, 429, timeouts, refused connections: retried with exponential backoff and jitter,
  never sooner than ``Retry-After``.
- Any retry after the last attempt: failed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _

#: Auth errors are retried this much later.
AUTH_RETRY_S = 600.0
#: Longest wait between two attempts.
MAX_DELAY_S = 300.0
#: At most this many violations are kept and shown.
MAX_VIOLATIONS = 20


class Verdict(StrEnum):
    DONE = "done"
    RECREATE = "recreate"
    REJECTED = "rejected"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    message: str = ""
    violations: tuple[dict[str, Any], ...] = ()
    delay_s: int = 0


def backoff_s(attempts: int, *, base_s: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: about ``base_s * 2^(attempts-1)``, at most 5 min."""
    ceiling = min(MAX_DELAY_S, base_s * 2 ** max(0, attempts - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def violations_of(data: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    found = data.get("violations")
    if not isinstance(found, list):
        return ()
    kept = []
    for entry in found[:MAX_VIOLATIONS]:
        if isinstance(entry, dict):
            kept.append(
                {
                    "propertyPath": str(entry.get("propertyPath", ""))[:200],
                    "title": str(entry.get("title", ""))[:500],
                }
            )
    return tuple(kept)


def violations_text(violations: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> str:
    return " ; ".join(
        f"{v['propertyPath']} : {v['title']}" if v.get("propertyPath") else str(v.get("title"))
        for v in violations
    )


def decide(
    *,
    method: str,
    status: int,
    data: dict[str, Any],
    failure: str = "",
    retry_after_s: float | None = None,
    attempts: int,
    max_attempts: int,
    base_s: float,
    rng: random.Random | None = None,
) -> Decision:
    """The fate of the change after one answer, its request being the ``attempts``-th try."""
    if 200 <= status < 300:
        return Decision(Verdict.DONE)
    if status == 404:
        if method == "DELETE":
            return Decision(Verdict.DONE)
        return Decision(Verdict.RECREATE, _("DiaLog ne connaît plus cet arrêté : recréation."))
    if status == 422:
        violations = violations_of(data)
        return Decision(
            Verdict.REJECTED,
            _("DiaLog a refusé l'arrêté (données invalides) : %(v)s")
            % {"v": violations_text(violations) or str(data.get("detail", ""))[:500]},
            violations,
        )
    if status == 400:
        return Decision(
            Verdict.REJECTED,
            _("DiaLog a refusé l'arrêté : %(detail)s")
            % {"detail": str(data.get("detail") or data.get("message") or "")[:500]},
        )
    if status in (401, 403):
        message = _(
            "DiaLog refuse les identifiants de l'organisation (%(status)d) : vérifiez "
            "l'identifiant et le secret client de la liaison DiaLog."
        ) % {"status": status}
        delay = AUTH_RETRY_S
    elif status == 0 or status == 429 or status >= 500:
        if status == 0 and failure == "timeout":
            message = _("DiaLog ne répond pas à temps.")
        elif status == 0:
            message = _("DiaLog est injoignable (%(why)s).") % {"why": failure}
        else:
            message = _("DiaLog est indisponible (%(status)d).") % {"status": status}
        delay = max(backoff_s(attempts, base_s=base_s, rng=rng), retry_after_s or 0.0)
    else:
        return Decision(
            Verdict.REJECTED,
            _("DiaLog a répondu %(status)d : %(detail)s")
            % {"status": status, "detail": str(data.get("detail") or data.get("message") or "")},
        )
    if attempts >= max_attempts:
        return Decision(
            Verdict.FAILED,
            _("Abandon après %(n)d essais. %(last)s") % {"n": attempts, "last": message},
        )
    wait = max(1, math.ceil(delay))
    return Decision(
        Verdict.RETRY,
        _("%(last)s Nouvel essai dans %(s)d s.") % {"last": message, "s": wait},
        delay_s=wait,
    )
