"""The maps of the site: an item over its districts, the works of the city (widget)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from apps.site import selectors
from apps.site.staticmap import Frame, Shape, frame_for, png_map, svg_map

#: The page's map and the link preview's picture (Open Graph recommends 1.91:1).
PAGE_SIZE = (640, 400)
PREVIEW_SIZE = (1200, 630)


def _extent(geometries: Sequence[Any]) -> tuple[float, float, float, float] | None:
    extents = [geometry.extent for geometry in geometries if geometry and not geometry.empty]
    if not extents:
        return None
    return (
        min(e[0] for e in extents),
        min(e[1] for e in extents),
        max(e[2] for e in extents),
        max(e[3] for e in extents),
    )


def _item_geometries(item: Any) -> list[Any]:
    geometries = [item.geometry]
    detour = getattr(item, "detour_geometry", None)
    if detour is not None:
        geometries.append(detour)
    return [geometry for geometry in geometries if geometry is not None and not geometry.empty]


def _shapes(item: Any, frame: Frame) -> list[Shape]:
    shapes = [
        Shape(area.geometry, "area", area.name) for area in selectors.outlines_in(frame.bbox())
    ]
    if item is not None and item.geometry is not None:
        shapes.append(Shape(item.geometry, "item", item.title))
    detour = getattr(item, "detour_geometry", None)
    if detour is not None and not detour.empty:
        shapes.append(Shape(detour, "detour", _("Déviation")))
    return shapes


def item_frame(item: Any, size: tuple[int, int]) -> Frame | None:
    """The frame of an item's map; a city-wide item gets the city's; ``None``: nothing to show."""
    extent = _extent(_item_geometries(item)) or selectors.city_extent()
    if extent is None:
        return None
    return frame_for(extent, width=size[0], height=size[1])


def describe(item: Any) -> str:
    """The text alternative of an item's map (RGAA 1.1): where it is, in words."""
    areas = ", ".join(area.name for area in item.areas.all())
    roads = ", ".join(getattr(item, "road_names", None) or [])
    where = roads or areas
    if item.geometry is None:
        return _("Carte de la ville ; ce contenu concerne toute la ville.")
    if where:
        return _("Carte : %(title)s, %(where)s.") % {"title": item.title, "where": where}
    return _("Carte : %(title)s.") % {"title": item.title}


def item_svg(item: Any) -> str | None:
    if item.geometry is None:
        return None
    frame = item_frame(item, PAGE_SIZE)
    if frame is None:
        return None
    return svg_map(
        frame=frame,
        shapes=_shapes(item, frame),
        title=_("Carte : %(title)s") % {"title": item.title},
        description=describe(item),
    )


def item_png(item: Any) -> bytes | None:
    frame = item_frame(item, PREVIEW_SIZE)
    if frame is None:
        return None
    return png_map(frame=frame, shapes=_shapes(item, frame), caption=item.title)


def works_svg(works: Sequence[Any], links: dict[int, str], *, title: str) -> str | None:
    """The works of ``works`` over the districts, each linking to its page (``links``)."""
    extent = _extent([item.geometry for item in works]) or selectors.city_extent()
    if extent is None:
        return None
    frame = frame_for(extent, width=PAGE_SIZE[0], height=PAGE_SIZE[1], margin=0.08)
    shapes = [
        Shape(area.geometry, "area", area.name) for area in selectors.outlines_in(frame.bbox())
    ]
    shapes += [
        Shape(item.geometry, "item", item.title, href=links[item.pk])
        for item in works
        if item.geometry is not None and not item.geometry.empty
    ]
    description = (
        _("%(count)d chantiers en cours ou à venir ; la liste ci-dessous donne les mêmes liens.")
        % {"count": len(works)}
        if works
        else _("Aucun chantier en cours.")
    )
    return svg_map(frame=frame, shapes=shapes, title=title, description=description)
