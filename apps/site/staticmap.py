"""Small static maps drawn on the server: an item's geometry over the district outlines.

No tile server and no third-party asset: the map is the city's own data, as an SVG for the
page (vector, links and text readable by assistive technologies) and as a PNG for link
previews (social networks do not take SVG). Pure drawing, no ORM: the views pass geometries.

Projection: equirectangular around the frame's centre (x = lon · cos φ₀, y = lat), enough
for the few kilometres a city map spans. Every geometry is simplified to about one pixel
before drawing, so a detailed district outline costs no more than a coarse one.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.contrib.gis.geos import GEOSGeometry, Polygon
from PIL import Image, ImageDraw, ImageFont

from apps.core.earth import METRES_PER_DEGREE

#: Colours (contrast ≥ 3:1 against the background for the item, RGAA 3.2 for graphics).
BACKGROUND = "#f4f1ea"
AREA_FILL = "#e4ddd0"
AREA_STROKE = "#6b6357"
AREA_LABEL = "#3d3830"
ITEM_COLOUR = "#b3261e"
DETOUR_COLOUR = "#1d4ed8"
#: Smallest span a map shows, so that a single point is seen in its street context.
MIN_SPAN_M = 500
#: At most this many vertices drawn per geometry after simplification (bounded work).
MAX_VERTICES = 4000
#: The PNG's font (Debian's fonts-dejavu-core: every French letter); Pillow's built-in font
#: when it is missing, which lacks accented capitals and ligatures.
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_PATH, size)
    except OSError:
        return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Frame:
    """The visible rectangle in projected degrees and the picture's size in pixels."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float
    width: int
    height: int
    cos_lat: float

    @property
    def scale(self) -> float:
        """Pixels per projected degree."""
        return self.width / (self.max_x - self.min_x)

    def px(self, lon: float, lat: float) -> tuple[float, float]:
        x = (lon * self.cos_lat - self.min_x) * self.scale
        y = (self.max_y - lat) * self.scale
        return round(x, 1), round(y, 1)

    def bbox(self) -> tuple[float, float, float, float]:
        """The frame as (min lon, min lat, max lon, max lat)."""
        return (
            self.min_x / self.cos_lat,
            self.min_y,
            self.max_x / self.cos_lat,
            self.max_y,
        )

    def metres_per_pixel(self) -> float:
        return METRES_PER_DEGREE / self.scale


def frame_for(extent: Sequence[float], *, width: int, height: int, margin: float = 0.15) -> Frame:
    """The frame showing ``extent`` (min lon, min lat, max lon, max lat) with a margin."""
    min_lon, min_lat, max_lon, max_lat = extent
    centre_lat = (min_lat + max_lat) / 2
    cos_lat = math.cos(math.radians(centre_lat))
    min_x, max_x = min_lon * cos_lat, max_lon * cos_lat
    span_x = max(max_x - min_x, MIN_SPAN_M / METRES_PER_DEGREE) * (1 + 2 * margin)
    span_y = max(max_lat - min_lat, MIN_SPAN_M / METRES_PER_DEGREE) * (1 + 2 * margin)
    # Widen the shorter side to the picture's aspect ratio.
    aspect = width / height
    if span_x / span_y < aspect:
        span_x = span_y * aspect
    else:
        span_y = span_x / aspect
    mid_x, mid_y = (min_x + max_x) / 2, centre_lat
    return Frame(
        mid_x - span_x / 2,
        mid_y - span_y / 2,
        mid_x + span_x / 2,
        mid_y + span_y / 2,
        width,
        height,
        cos_lat,
    )


@dataclass
class Shape:
    """One geometry to draw: ``kind`` is ``area``, ``item`` or ``detour``."""

    geometry: GEOSGeometry
    kind: str
    label: str = ""
    href: str = ""
    parts: list[tuple[str, list[list[tuple[float, float]]]]] = field(default_factory=list)


def _simplified(geometry: GEOSGeometry, frame: Frame) -> GEOSGeometry:
    """The geometry simplified to about one pixel (Douglas-Peucker, topology kept)."""
    tolerance = 1 / frame.scale
    if geometry.geom_type == "Point" or geometry.num_coords < 50:
        return geometry
    simple = geometry.simplify(tolerance, preserve_topology=True)
    while simple.num_coords > MAX_VERTICES:
        tolerance *= 2
        simple = geometry.simplify(tolerance, preserve_topology=True)
    return simple


def _parts(geometry: Any) -> Iterator[tuple[str, list]]:
    """(``point`` | ``line`` | ``polygon``, rings of lon/lat pairs) of any geometry."""
    kind = geometry.geom_type
    if kind == "Point":
        yield "point", [[geometry.coords]]
    elif kind in ("LineString", "LinearRing"):
        yield "line", [list(geometry.coords)]
    elif kind == "Polygon":
        yield "polygon", [list(ring.coords) for ring in geometry]
    else:  # Multi* and GeometryCollection
        for member in geometry:
            yield from _parts(member)


def _project(shape: Shape, frame: Frame) -> None:
    geometry = _simplified(shape.geometry, frame)
    shape.parts = [
        (kind, [[frame.px(lon, lat) for lon, lat, *_z in ring] for ring in rings])
        for kind, rings in _parts(geometry)
    ]


def _path(rings: list[list[tuple[float, float]]], *, close: bool) -> str:
    commands = []
    for ring in rings:
        head, *tail = ring
        commands.append(f"M{head[0]} {head[1]}" + "".join(f"L{x} {y}" for x, y in tail))
        if close:
            commands.append("Z")
    return "".join(commands)


def _label_point(shape: Shape, frame: Frame) -> tuple[float, float] | None:
    """Where to write an area's name: inside the part of it the frame shows."""
    box = Polygon.from_bbox(frame.bbox())
    box.srid = shape.geometry.srid
    visible = shape.geometry.intersection(box)
    if visible.empty:
        return None
    point = visible.point_on_surface
    x, y = frame.px(point.x, point.y)
    if 20 <= x <= frame.width - 20 and 12 <= y <= frame.height - 12:
        return x, y
    return None


def _scale_bar(frame: Frame) -> tuple[int, str]:
    """A round length about a fifth of the width: (pixels, label)."""
    target = frame.metres_per_pixel() * frame.width / 5
    magnitude = 10 ** math.floor(math.log10(target))
    metres = max(step * magnitude for step in (1, 2, 5) if step * magnitude <= target)
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    return round(metres / frame.metres_per_pixel()), label


def svg_map(*, frame: Frame, shapes: list[Shape], title: str, description: str) -> str:
    """An accessible SVG (``role="img"``, ``<title>``, ``<desc>``); shapes with ``href`` link."""
    # A picture (role="img") may not hold links: a map with links is a group of them.
    role = "group" if any(shape.href for shape in shapes) else "img"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {frame.height}"'
        f' width="{frame.width}" height="{frame.height}" role="{role}"'
        ' aria-labelledby="map-title map-desc" class="map">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<desc id="map-desc">{escape(description)}</desc>',
        f'<rect width="100%" height="100%" fill="{BACKGROUND}"/>',
    ]
    labels: list[str] = []
    # Districts first, then their names, then the item on top.
    shapes = sorted(shapes, key=lambda shape: shape.kind != "area")
    for shape in shapes:
        if shape.kind != "area" and labels:
            out.extend(labels)
            labels = []
        _project(shape, frame)
        element = _svg_shape(shape)
        if shape.href:
            element = (
                f'<a href={quoteattr(shape.href)} target="_top">'
                f"<title>{escape(shape.label)}</title>{element}</a>"
            )
        out.append(element)
        if shape.kind == "area" and shape.label:
            at = _label_point(shape, frame)
            if at:
                labels.append(
                    f'<text x="{at[0]}" y="{at[1]}" text-anchor="middle" font-size="13"'
                    f' font-family="sans-serif" fill="{AREA_LABEL}">{escape(shape.label)}</text>'
                )
    out.extend(labels)
    pixels, label = _scale_bar(frame)
    y = frame.height - 12
    out.append(
        f'<g aria-hidden="true"><path d="M10 {y}h{pixels}" stroke="{AREA_LABEL}" '
        f'stroke-width="3"/><text x="{10 + pixels + 6}" y="{y + 4}" font-size="12" '
        f'font-family="sans-serif" fill="{AREA_LABEL}">{label}</text></g>'
    )
    out.append("</svg>")
    return "".join(out)


def _svg_shape(shape: Shape) -> str:
    elements = []
    for kind, rings in shape.parts:
        if kind == "point":
            x, y = rings[0][0]
            colour = DETOUR_COLOUR if shape.kind == "detour" else ITEM_COLOUR
            elements.append(
                f'<circle cx="{x}" cy="{y}" r="9" fill="{colour}" stroke="#fff" stroke-width="3"/>'
            )
        elif shape.kind == "area":
            elements.append(
                f'<path d="{_path(rings, close=kind == "polygon")}" fill="{AREA_FILL}" '
                f'stroke="{AREA_STROKE}" stroke-width="1.5" fill-rule="evenodd"/>'
            )
        elif kind == "polygon":
            elements.append(
                f'<path d="{_path(rings, close=True)}" fill="{ITEM_COLOUR}" fill-opacity="0.3" '
                f'stroke="{ITEM_COLOUR}" stroke-width="4" fill-rule="evenodd"/>'
            )
        else:
            colour = DETOUR_COLOUR if shape.kind == "detour" else ITEM_COLOUR
            dash = ' stroke-dasharray="10 6"' if shape.kind == "detour" else ""
            elements.append(
                f'<path d="{_path(rings, close=False)}" fill="none" stroke="{colour}" '
                f'stroke-width="6" stroke-linecap="round" stroke-linejoin="round"{dash}/>'
            )
    return "".join(elements)


def png_map(*, frame: Frame, shapes: list[Shape], caption: str = "") -> bytes:
    """The same map as a PNG, with ``caption`` in a band at the bottom (link previews)."""
    image = Image.new("RGB", (frame.width, frame.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for shape in shapes:
        _project(shape, frame)
    areas = [shape for shape in shapes if shape.kind == "area"]
    for shape in areas:
        for kind, rings in shape.parts:
            _png_part(draw, shape, kind, rings)
    font = _font(max(14, frame.height // 28))
    for shape in areas:
        at = _label_point(shape, frame) if shape.label else None
        if at:
            draw.text(at, shape.label, fill=AREA_LABEL, font=font, anchor="mm")
    for shape in shapes:  # the item above the districts and their names
        if shape.kind != "area":
            for kind, rings in shape.parts:
                _png_part(draw, shape, kind, rings)
    if caption:
        _caption(draw, frame, caption)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _caption(draw: ImageDraw.ImageDraw, frame: Frame, caption: str) -> None:
    """The title in a white band, shrunk then cut (with "…") to fit the width."""
    band = frame.height // 6
    margin = band // 3
    draw.rectangle([0, frame.height - band, frame.width, frame.height], fill="#ffffff")
    room = frame.width - 2 * margin
    size = band // 2
    font = _font(size)
    while draw.textlength(caption, font=font) > room and size > band // 3:
        size -= 2
        font = _font(size)
    text = caption
    while draw.textlength(text, font=font) > room and len(text) > 1:
        text = text[:-2].rstrip() + "…"
    draw.text((margin, frame.height - band // 2), text, fill="#1f1f1f", font=font, anchor="lm")


def _png_part(draw: ImageDraw.ImageDraw, shape: Shape, kind: str, rings: list) -> None:
    colour = DETOUR_COLOUR if shape.kind == "detour" else ITEM_COLOUR
    if kind == "point":
        x, y = rings[0][0]
        draw.ellipse([x - 14, y - 14, x + 14, y + 14], fill=colour, outline="#ffffff", width=4)
    elif shape.kind == "area":
        for ring in rings:
            if len(ring) >= 3:
                draw.polygon(ring, fill=AREA_FILL, outline=AREA_STROKE, width=2)
    elif kind == "polygon":
        for ring in rings:
            if len(ring) >= 3:
                draw.polygon(ring, fill="#e3a9a5", outline=colour, width=6)
    else:
        for ring in rings:
            draw.line(ring, fill=colour, width=9, joint="curve")
