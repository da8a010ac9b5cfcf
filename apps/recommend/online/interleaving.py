"""Interleaved feed requests: which requests, the reference ranker, the items' ``ranker`` token.

A share of personal first pages (``FEED_INTERLEAVING_SHARE``) is a team-draft interleaving of
the served ranker and the reference (``FEED_INTERLEAVING_REFERENCE``); the snapshot keeps which
team placed each item, so every page of its cursor shows the same interleaved order. Each item
of such a page carries a ``ranker`` token — signed, opaque to the app — that the app sends back
with its interactions: ``<snapshot key>.<team>.<served>.<reference>``. Nothing is written when
the page is served; the log of a consenting device gets the three marks with the interaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from apps.recommend.engine.interleaving import REFERENCE, SERVED, NearestFirstRanker
from apps.recommend.engine.ranking import ModelRanker, Ranker, Stage1Ranker
from apps.recommend.store import ModelStore

_SALT = "apps.recommend.feed.ranker"
#: Longest token accepted (a key of 16, two versions of 22 and a signature are about 110).
TOKEN_MAX_CHARS = 200


def interleave_now() -> bool:
    """Whether this personal first page is interleaved (a ``FEED_INTERLEAVING_SHARE`` draw)."""
    share = float(settings.FEED_INTERLEAVING_SHARE)
    return share > 0 and (share >= 1 or secrets.randbelow(1_000_000) < share * 1_000_000)


def reference_ranker(served: Ranker, store: ModelStore) -> Ranker | None:
    """The ranker ``served`` is measured against, or ``None`` when it would be itself.

    ``nearest``: nearest first. ``stage1``: the hand weights. ``previous``: the model served
    before ``served`` (``ModelStore.previous``: read once per ``LATEST``), or stage 1 when
    there is none.
    """
    name = settings.FEED_INTERLEAVING_REFERENCE
    if name == "nearest":
        return NearestFirstRanker(idf=served.idf)
    if not isinstance(served, ModelRanker):  # stage 1 against itself, or a model before it
        return None
    if name == "stage1":
        return Stage1Ranker(idf=served.idf)
    # ``served`` is the latest version (``current``): its predecessor, cached per LATEST.
    reference = store.previous()
    if isinstance(reference, Stage1Ranker):
        return Stage1Ranker(idf=served.idf)
    return reference


def ranker_name(ranker: Ranker) -> str:
    """``stage1``, ``nearest``, or the version of the model (``20260311T031500123456Z``)."""
    return ranker.version if isinstance(ranker, ModelRanker) else ranker.name


@dataclass(frozen=True)
class RankerMark:
    """What an item's ``ranker`` token says: the request, the team, the pair compared."""

    request: str
    team: int
    served: str
    reference: str

    @property
    def pair(self) -> str:
        return f"{self.served}|{self.reference}"


def token_make(mark: RankerMark) -> str:
    return signing.Signer(salt=_SALT).sign(
        f"{mark.request}.{mark.team}.{mark.served}.{mark.reference}"
    )


def token_open(token: str) -> RankerMark:
    """The mark of ``token``; ``ValueError`` when it is not one this site signed."""
    if len(token) > TOKEN_MAX_CHARS:
        raise ValueError("too long")
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        raise ValueError("bad signature") from None
    request, team, served, reference = value.split(".")
    if int(team) not in (SERVED, REFERENCE):
        raise ValueError("bad team")
    return RankerMark(request, int(team), served, reference)
