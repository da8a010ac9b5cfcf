"""The charts of a notification's statistics page (issue 16, item 6): sends and opens over
time, failures by reason, and the reach by district on a small map.

Every bar is a count of the page's disclosure (``apps.core.disclosure``): the charts' cells
are disclosed *together* with the table's, with their relations (the sent deliveries = the
send steps = the districts; the consenting openers within the opens, = the open steps), so
a masked step or district cannot be recovered from the total and the others, and a bar is
drawn masked exactly when its number is. The table's values are unchanged by the charts'
cells: these only ever mask chart cells (``tests/notifications/test_admin_charts.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from apps.core.admin.charts import AreaMap, Chart, area_map, bars_chart, columns_chart
from apps.core.disclosure import MASK, Cell, Relation, Shown, disclose, keys_combined
from apps.notifications.models import Notification
from apps.notifications.selectors import FAILED_REASONS, NotificationStats, stats_cells
from apps.notifications.statistics import (
    PERCENTS,
    SendSeries,
    Series,
    map_areas,
    opens_over_time,
    reach_by_area,
    sends_over_time,
)

#: Outlines are simplified to about this many degrees (≈ 20 m): a few pixels on the map.
MAP_TOLERANCE_DEG = 0.0002
ELSEWHERE = "elsewhere"


@dataclass
class NotificationCharts:
    sends: Chart
    reached: list[tuple[str, str]]
    opens: Chart | None
    opens_total: str
    failures: Chart | None
    reach: AreaMap
    #: Every count of the page as shown, by cell name (the table's and the charts').
    shown: dict[str, Shown]


def duration_text(seconds: float | None) -> str:
    """A duration as staff read it: "45 s", "12 min", "3 h 05", "2 j 4 h"."""
    if seconds is None:
        return _("pas encore")
    seconds = round(seconds)
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)d h %(m)02d") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d j %(h)d h") % {"d": days, "h": hours}


def step_label(moment: datetime, step_s: int) -> str:
    """The start of a step, as precise as the step needs (city time)."""
    local = localtime(moment)
    if step_s < 60:
        return date_format(local, "H:i:s")
    if step_s < 86400:
        return date_format(local, "j b H:i")
    return date_format(local, "j b")


def step_text(step_s: int) -> str:
    return duration_text(step_s)


def _series_cells(prefix: str, series: Series) -> dict[str, Cell]:
    return {f"{prefix}:{i}": cell for i, cell in enumerate(series.cells)}


def charts_cells(
    stats: NotificationStats,
    sends: Series,
    opens: Series | None,
    reach: dict[int | None, Cell],
    area_ids: list[int],
) -> tuple[dict[str, Cell], list[Relation]]:
    """The table's cells and relations (``stats_cells``) plus the charts': ``send:<i>``,
    ``open:<i>``, ``opens_logged``, ``area:<id>`` and ``area:elsewhere``."""
    cells, relations = stats_cells(stats)
    cells = dict(cells)
    cells.update(_series_cells("send", sends))
    relations = [*relations, Relation("sent", tuple(_series_cells("send", sends)))]
    drawn = set(area_ids)
    for area_id in area_ids:
        cells[f"area:{area_id}"] = reach.get(area_id, Cell(0))
    others = [cell for area_id, cell in reach.items() if area_id not in drawn]
    cells[f"area:{ELSEWHERE}"] = Cell(
        sum(c.count for c in others), keys_combined(c.key for c in others)
    )
    relations.append(Relation("sent", (*(f"area:{i}" for i in area_ids), f"area:{ELSEWHERE}")))
    if opens is not None and "opened" in cells:
        cells["opens_logged"] = opens.total
        cells.update(_series_cells("open", opens))
        relations.append(Relation("opened", ("opens_logged",)))
        relations.append(Relation("opens_logged", tuple(_series_cells("open", opens))))
    return cells, relations


def _time_bars(prefix: str, series: Series, shown: dict[str, Shown]) -> list[tuple[str, Shown]]:
    return [
        (step_label(series.bucket_start(i), series.step_s), shown[f"{prefix}:{i}"])
        for i in range(len(series.cells))
    ]


def notification_charts(notification: Notification, stats: NotificationStats) -> NotificationCharts:
    """The charts of one notification's page (a few queries, none per step or district)."""
    sends: SendSeries = sends_over_time(notification)
    opens = opens_over_time(notification)
    areas = map_areas(MAP_TOLERANCE_DEG)
    reach = reach_by_area(notification)
    cells, relations = charts_cells(stats, sends, opens, reach, [a.pk for a in areas])
    shown = disclose(cells, relations)

    sent_masked = shown["sent"].masked
    reached = [
        (
            _("%(p)s %% des envois") % {"p": p},
            str(MASK) if sent_masked else duration_text(sends.reached_s.get(p)),
        )
        for p in PERCENTS
    ]
    sends_chart = columns_chart(
        chart_id="chart-sends",
        title=_("Envois au fil du temps"),
        summary=_(
            "Notifications remises au service d'envoi (FCM), par tranche de %(step)s depuis le "
            "%(start)s. Total : %(total)s."
        )
        % {
            "step": step_text(sends.step_s),
            "start": date_format(localtime(sends.start), "j F Y à H:i:s"),
            "total": shown["sent"],
        },
        bars=_time_bars("send", sends, shown),
        label_header=_("Tranche commençant à"),
        value_header=_("Envoyées"),
    )

    opens_chart = None
    opens_total = ""
    if opens is not None and "opens_logged" in shown:
        opens_total = str(shown["opens_logged"])
        opens_chart = columns_chart(
            chart_id="chart-opens",
            title=_("Ouvertures au fil du temps"),
            summary=_(
                "Première ouverture depuis la notification, par habitant ayant accepté la "
                "personnalisation (les autres ouvertures sont comptées sans heure), par "
                "tranche de %(step)s. Total : %(total)s sur %(opened)s ouvertures."
            )
            % {
                "step": step_text(opens.step_s),
                "total": shown["opens_logged"],
                "opened": shown["opened"],
            },
            bars=_time_bars("open", opens, shown),
            label_header=_("Tranche commençant à"),
            value_header=_("Ouvertures"),
        )

    failures_chart = None
    if not shown["failed"].masked:
        failures_chart = bars_chart(
            chart_id="chart-failures",
            title=_("Échecs par cause"),
            summary=_("Envois refusés ou abandonnés, par cause. Total : %(total)s.")
            % {"total": shown["failed"]},
            bars=[(str(r.label), shown[f"reason_{r}"]) for r in FAILED_REASONS],
            label_header=_("Cause"),
            value_header=_("Échecs"),
        )

    reach_map = area_map(
        chart_id="chart-reach",
        title=_("Appareils atteints par quartier"),
        summary=_(
            "Notifications envoyées, par quartier du premier lieu enregistré de l'appareil. "
            "Total : %(total)s."
        )
        % {"total": shown["sent"]},
        areas=[
            (a.name, _outline(getattr(a, "outline", None)), shown[f"area:{a.pk}"]) for a in areas
        ],
        others=[(_("Hors des quartiers connus"), shown[f"area:{ELSEWHERE}"])],
        label_header=_("Quartier"),
        value_header=_("Appareils atteints"),
    )
    return NotificationCharts(
        sends=sends_chart,
        reached=reached,
        opens=opens_chart,
        opens_total=opens_total,
        failures=failures_chart,
        reach=reach_map,
        shown=shown,
    )


def _outline(geometry: Any) -> list[list[list[tuple[float, float]]]]:
    """A (multi)polygon as polygons of rings of (longitude, latitude)."""
    if geometry is None:
        return []
    polygons = [geometry] if geometry.geom_type == "Polygon" else list(geometry)
    return [[list(ring.coords) for ring in polygon] for polygon in polygons]
