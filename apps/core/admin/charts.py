"""Charts of staff pages drawn on the server as SVG (no JavaScript, no CDN): bars and a map.

Every value is a ``Shown`` count of ``apps.core.disclosure``: a masked count is drawn as a
hatched bar of the full height (or a hatched area on the map), whatever the count behind it,
so that no chart tells more than the table under it. The scale is the largest *shown* value.
Pure computation (no ORM): the templates ``admin/charts/bars.html`` and ``map.html`` draw it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from apps.core.disclosure import Shown

#: The drawing box of a column chart, in SVG user units (the SVG scales to the page).
COLUMNS_WIDTH = 640
COLUMNS_HEIGHT = 180
#: Room left of the plot for the scale, and under it for the labels.
MARGIN_LEFT = 48
MARGIN_BOTTOM = 22
#: Room above the plot (the top label of the scale) and right of it (the last time label).
MARGIN_TOP = 10
MARGIN_RIGHT = 30
#: A horizontal bar chart: one row per bar.
ROW_HEIGHT = 22
BARS_WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 70
#: The map's width (its height follows the city's shape, at most ``MAP_MAX_HEIGHT``).
MAP_WIDTH = 420
MAP_MAX_HEIGHT = 420
MAP_PADDING = 6
#: Shades of the map, lightest (smallest shown reach) to darkest.
MAP_SHADES = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")


@dataclass(frozen=True)
class Mark:
    """One bar as drawn: a rectangle, its label and the value as printed."""

    label: str
    text: str
    masked: bool
    x: float
    y: float
    width: float
    height: float
    #: Where the label (columns: under the bar; bars: left of it) and the value are written.
    label_x: float = 0.0
    label_y: float = 0.0
    show_label: bool = True
    #: Where a bar's value is written (right of a horizontal bar).
    value_x: float = 0.0


@dataclass
class Chart:
    """A chart with what makes it readable without the picture: a title, a text summary and
    the table of its values (``rows``: ``(label, value as shown)``)."""

    chart_id: str
    title: str
    summary: str
    kind: str  # "columns" or "bars"
    width: int
    height: int
    marks: list[Mark] = field(default_factory=list)
    #: Gridlines of the scale: ``(y or x position, label)``.
    ticks: list[tuple[float, str]] = field(default_factory=list)
    label_header: str = ""
    value_header: str = ""

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [(m.label, m.text) for m in self.marks]

    @property
    def empty(self) -> bool:
        return not self.marks


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at least ``value`` (at least 5)."""
    if value <= 5:
        return 5
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _scale(values: Sequence[Shown]) -> int:
    return nice_ceiling(max((v.value or 0 for v in values), default=0))


def _tick_label(value: int) -> str:
    return str(Shown(value))


def columns_chart(
    *,
    chart_id: str,
    title: str,
    summary: str,
    bars: Sequence[tuple[str, Shown]],
    label_header: str,
    value_header: str,
    labels_every: int | None = None,
) -> Chart:
    """A column chart (a time series): one column per ``(label, shown)``, in order. Only every
    ``labels_every``-th label is written under the axis (all of them are in the table)."""
    chart = Chart(
        chart_id,
        title,
        summary,
        "columns",
        COLUMNS_WIDTH,
        MARGIN_TOP + COLUMNS_HEIGHT + MARGIN_BOTTOM,
    )
    chart.label_header, chart.value_header = label_header, value_header
    if not bars:
        return chart
    top = _scale([shown for _label, shown in bars])
    plot_width = COLUMNS_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    step = plot_width / len(bars)
    gap = min(step * 0.15, 4.0)
    every = labels_every or max(1, math.ceil(len(bars) / 6))
    for index, (label, shown) in enumerate(bars):
        height = COLUMNS_HEIGHT if shown.masked else COLUMNS_HEIGHT * (shown.value or 0) / top
        x = MARGIN_LEFT + index * step + gap / 2
        chart.marks.append(
            Mark(
                label=label,
                text=str(shown),
                masked=shown.masked,
                x=round(x, 2),
                y=round(MARGIN_TOP + COLUMNS_HEIGHT - height, 2),
                width=round(step - gap, 2),
                height=round(height, 2),
                label_x=round(x + (step - gap) / 2, 2),
                label_y=MARGIN_TOP + COLUMNS_HEIGHT + 15,
                show_label=index % every == 0,
            )
        )
    fractions = (0.0, 0.5, 1.0) if top % 2 == 0 else (0.0, 1.0)
    chart.ticks = [
        (round(MARGIN_TOP + COLUMNS_HEIGHT * (1 - f), 2), _tick_label(round(top * f)))
        for f in fractions
    ]
    return chart


def bars_chart(
    *,
    chart_id: str,
    title: str,
    summary: str,
    bars: Sequence[tuple[str, Shown]],
    label_header: str,
    value_header: str,
) -> Chart:
    """A horizontal bar chart (categories, reasons): one row per ``(label, shown)``."""
    chart = Chart(chart_id, title, summary, "bars", BARS_WIDTH, max(len(bars), 1) * ROW_HEIGHT)
    chart.label_header, chart.value_header = label_header, value_header
    top = _scale([shown for _label, shown in bars])
    plot = BARS_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    for index, (label, shown) in enumerate(bars):
        width = plot if shown.masked else plot * (shown.value or 0) / top
        y = index * ROW_HEIGHT
        chart.marks.append(
            Mark(
                label=label,
                text=str(shown),
                masked=shown.masked,
                x=LABEL_WIDTH,
                y=y + 3,
                width=round(width, 2),
                height=ROW_HEIGHT - 6,
                label_x=LABEL_WIDTH - 6,
                label_y=y + ROW_HEIGHT / 2 + 4,
                value_x=round(LABEL_WIDTH + width + 4, 2),
            )
        )
    return chart


# --- the map ------------------------------------------------------------------------------------

Ring = Sequence[tuple[float, float]]
#: An area's outline: its polygons, each a list of rings of (longitude, latitude).
Outline = Sequence[Sequence[Ring]]


@dataclass(frozen=True)
class MapArea:
    name: str
    text: str
    masked: bool
    path: str
    fill: str
    #: Where the name is written: the middle of the area's box.
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass
class AreaMap:
    """A small map of areas shaded by a shown count, with its table fallback."""

    chart_id: str
    title: str
    summary: str
    width: int
    height: int
    areas: list[MapArea]
    #: Rows with no outline to draw (e.g. "elsewhere"), listed in the table only.
    others: list[tuple[str, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    label_header: str = ""
    value_header: str = ""

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [(a.name, a.text) for a in self.areas] + self.others


def _shade(shown: Shown, top: int) -> str:
    if shown.masked:
        return ""  # the template hatches it
    if not shown.value:
        return "#ffffff"
    index = min(len(MAP_SHADES) - 1, math.ceil(len(MAP_SHADES) * shown.value / top) - 1)
    return MAP_SHADES[index]


def area_map(
    *,
    chart_id: str,
    title: str,
    summary: str,
    areas: Sequence[tuple[str, Outline, Shown]],
    others: Sequence[tuple[str, Shown]] = (),
    label_header: str,
    value_header: str,
) -> AreaMap:
    """Project the outlines into the map's box (equirectangular around the middle latitude,
    north up: good enough for a city) and shade each area by its shown count."""
    points = [
        pt for _n, outline, _s in areas for polygon in outline for ring in polygon for pt in ring
    ]
    legend: list[tuple[str, str]] = []
    if not points:
        height = 0
        projected: list[MapArea] = []
    else:
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        west, east, south, north = min(lons), max(lons), min(lats), max(lats)
        squeeze = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * squeeze, 1e-9)
        span_y = max(north - south, 1e-9)
        inner = MAP_WIDTH - 2 * MAP_PADDING
        scale = min(inner / span_x, (MAP_MAX_HEIGHT - 2 * MAP_PADDING) / span_y)
        height = math.ceil(span_y * scale + 2 * MAP_PADDING)
        offset_x = (MAP_WIDTH - span_x * scale) / 2

        def project(lon: float, lat: float) -> tuple[float, float]:
            return offset_x + (lon - west) * squeeze * scale, MAP_PADDING + (north - lat) * scale

        def xy(lon: float, lat: float) -> str:
            x, y = project(lon, lat)
            return f"{x:.1f},{y:.1f}"

        top = nice_ceiling(max((s.value or 0 for _n, _o, s in areas), default=0))
        legend = [
            (shade, str(Shown(math.ceil(top * (i + 1) / len(MAP_SHADES)))))
            for i, shade in enumerate(MAP_SHADES)
        ]
        projected = []
        for name, outline, shown in areas:
            path = " ".join(
                "M" + " L".join(xy(lon, lat) for lon, lat in ring) + " Z"
                for polygon in outline
                for ring in polygon
            )
            corners = [project(lon, lat) for p in outline for r in p for lon, lat in r]
            middle_x = (min(c[0] for c in corners) + max(c[0] for c in corners)) / 2
            middle_y = (min(c[1] for c in corners) + max(c[1] for c in corners)) / 2
            projected.append(
                MapArea(
                    name,
                    str(shown),
                    shown.masked,
                    path,
                    _shade(shown, top),
                    round(middle_x, 1),
                    round(middle_y, 1),
                )
            )
    result = AreaMap(
        chart_id,
        title,
        summary,
        MAP_WIDTH,
        height,
        projected,
        others=[(name, str(shown)) for name, shown in others],
        legend=legend,
    )
    result.label_header, result.value_header = label_header, value_header
    return result
