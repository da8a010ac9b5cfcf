"""The figures of an alert's delivery report (docs/alerts.md, "Lire le rapport").

Per notification: targeted, handed to FCM (``sent``), failed by reason, held, skipped, still
in flight, opens; the time from the publication's commit (``Notification.committed_at``; the
row's creation for older rows) to 50 / 90 / 99 / 100 % of the targeted devices handed over; the
timeline (the share handed over, second by second). Counts go through
``apps.core.disclosure`` as on every staff page (masked below K, rounded to BASE); the raw
figures stay in ``AlertReport.raw`` for the tests and are never shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.db.models.functions import TruncSecond

from apps.core.disclosure import MASK, disclose
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from apps.notifications.selectors import (
    FAILED_REASONS,
    SKIPPED_REASONS,
    NotificationStats,
    notification_stats,
    stats_cells,
)

PERCENTILES = (50, 90, 99, 100)
#: The curve is drawn in whole per cent, and only when 1 % of the targeted devices is at least
#: this many: a step of the curve then never tells a count finer than the rounding does.
CURVE_MIN_TARGETED = 1_000


@dataclass
class AlertReport:
    notification: Notification
    started_at: datetime
    stats: NotificationStats
    #: Every count as shown (a number or "masqué"), by cell name (``stats_cells``).
    shown: dict[str, str]
    #: Seconds from the publication to p % of the targeted devices handed over (None: not yet).
    reached_s: dict[int, float | None]
    #: ``(seconds since the publication, % of the targeted handed over)``, one per second.
    timeline: list[tuple[float, float]] = field(default_factory=list)
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None

    @property
    def raw(self) -> dict[str, int]:
        """The exact counts (tests and the debrief's own checks; never shown)."""
        cells, _relations = stats_cells(self.stats)
        return {name: cell.count for name, cell in cells.items()}

    @property
    def in_flight(self) -> bool:
        return self.stats.in_flight > 0 or self.stats.held > 0

    @property
    def masked(self) -> bool:
        return self.shown["targeted"] == str(MASK)

    def rows(self) -> list[tuple[str, str, str]]:
        """``(section, label, value)`` of every figure as shown, in reading order."""
        from django.utils.translation import gettext as _

        rows = [
            ("figures", _("Appareils ciblés"), self.shown["targeted"]),
            ("figures", _("Remises à FCM"), self.shown["sent"]),
            ("figures", _("Ouvertes depuis la notification"), self.shown.get("opened", "—")),
            ("figures", _("Retenues (aucune attendue pour une alerte)"), self.shown["held"]),
            ("figures", _("En attente ou en cours d'envoi"), self.shown["in_flight"]),
            ("figures", _("Non envoyées"), self.shown["skipped"]),
        ]
        if self.shown["skipped"] != str(MASK):
            rows += [("skipped", str(r.label), self.shown[f"reason_{r}"]) for r in SKIPPED_REASONS]
        rows.append(("figures", _("Échecs"), self.shown["failed"]))
        if self.shown["failed"] != str(MASK):
            rows += [("failed", str(r.label), self.shown[f"reason_{r}"]) for r in FAILED_REASONS]
        for p in PERCENTILES:
            value = self.reached_s[p]
            text = _("non atteint") if value is None else f"{value:.1f} s"
            rows.append(("times", _("Délai jusqu'à %(p)s %% remis") % {"p": p}, text))
        return rows


def _shown(notification: Notification, stats: NotificationStats) -> dict[str, str]:
    cells, relations = stats_cells(stats)
    if notification.kind == Kind.TEST:
        return {name: str(cell.count) for name, cell in cells.items()}
    return {name: str(value) for name, value in disclose(cells, relations).items()}


def _handed(notification: Notification):
    return Delivery.objects.filter(
        notification=notification, status=DeliveryStatus.SENT, sent_at__isnull=False
    )


def alert_report(notification: Notification) -> AlertReport:
    """The report of one notification (an alert's publication or update, or a drill)."""
    stats = notification_stats([notification])[notification.pk]
    started = notification.committed_at or notification.created_at
    handed = _handed(notification)
    targeted = notification.targeted
    reached: dict[int, float | None] = {}
    # The k-th hand-over time, k = ceil(p % of targeted): one indexed read per percentile.
    for p in PERCENTILES:
        k = math.ceil(p * targeted / 100)
        moment = None
        if 0 < k <= stats.sent:
            moment = handed.order_by("sent_at", "id").values_list("sent_at", flat=True)[k - 1]
        reached[p] = None if moment is None else max((moment - started).total_seconds(), 0.0)
    timeline: list[tuple[float, float]] = []
    first = last = None
    if targeted >= CURVE_MIN_TARGETED:
        buckets = (
            handed.annotate(second=TruncSecond("sent_at"))
            .values("second")
            .annotate(n=Count("pk"))
            .order_by("second")
        )
        total = 0
        for bucket in buckets:
            total += bucket["n"]
            at = max((bucket["second"] - started).total_seconds() + 1, 0.0)  # end of second
            timeline.append((at, float(math.floor(100 * total / targeted))))
    if stats.sent:
        ordered = handed.order_by("sent_at").values_list("sent_at", flat=True)
        first, last = ordered.first(), ordered.last()
    return AlertReport(
        notification=notification,
        started_at=started,
        stats=stats,
        shown=_shown(notification, stats),
        reached_s=reached,
        timeline=timeline,
        first_sent_at=first,
        last_sent_at=last,
    )
