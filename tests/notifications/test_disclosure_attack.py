"""An editor plays the attacker against the staff statistics (issue 11, item 8).

A small known population: Le Moulin, five homes; Bellevue, one house with one device (later
a second one moves in); seven devices far away. The attacker reads the real admin pages as a
logged-in staff member — the reach preview of a roadwork over both districts, of two saved
draft geometries that differ by the house, of a city-wide alert, the residents' statistics,
and after publication the notification's statistics page (with its map of the reach by
district) and list (Bellevue's first device has a dead token: one failure) — at three
moments: before, after the new device, after publication. From the numbers rendered in the
HTML, and the published mechanism (docs/privacy.md: random rounding to 5, masking below 5 and
complementary masking by the published rule), the attacker keeps every hypothetical
population that would have rendered exactly these pages, and must not pin any count from 1
to 4.

The pages are modelled once (``scenario``: what each cell counts, the relations of each
page); the model is checked against the real HTML (the true population must render it), and
the second test replays the attack for every way the secret keys could round the counts
(each group shown with a count that is not a multiple of 5 up or down: 128 draws here).
"""

from __future__ import annotations

import html as html_lib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.gis.geos import MultiPolygon
from django.urls import reverse

from apps.core.disclosure import BASE, MASK, Cell, K, Relation, suppressed
from apps.core.models import Urgency
from apps.core.services import content_areas_refresh, content_publish, content_save
from apps.notifications.models import Notification, Reason
from apps.notifications.selectors import FAILED_REASONS, SKIPPED_REASONS
from tests.admin.conftest import admin_url
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, NewsFactory, WorksFactory, square
from tests.notifications.helpers import FAR, phone
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

#: How the preview names the devices whose home is in no known area.
ELSEWHERE = "Hors des quartiers connus"
MOULIN_AT = (CENTRE_LON - 0.01, CENTRE_LAT)
HOUSE_AT = (CENTRE_LON + 0.01, CENTRE_LAT)

#: The unknowns: devices in Le Moulin, at the house at first (B), moving in later (N), far (E).
ATOMS = ("M", "B", "N", "E")
TRUTH = {"M": 5, "B": 1, "N": 1, "E": 7}
#: What the attacker wants: any of these from 1 to K - 1 pinned is a leak.
TARGETS: dict[str, Callable[[dict[str, int]], int]] = {
    "the house before (B)": lambda w: w["B"],
    "the newcomer (N)": lambda w: w["N"],
    "Bellevue after (B + N)": lambda w: w["B"] + w["N"],
}
#: Hypotheses: each unknown from 0 to this (wider than anything the pages allow).
SEARCH = 14

World = dict[str, int]


# --- what the pages render --------------------------------------------------------------------


def number(text: str) -> int | None:
    """A rendered count: None when masked."""
    text = html_lib.unescape(text).strip()
    if text == str(MASK):
        return None
    return int(re.sub(r"\s", "", text))


def read_preview(client, url: str) -> dict[str, int | None] | None:
    """The reach panel: ``{"total": n, "area:<name>": n}``, or None when refused."""
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200, page[:3000]
    panel = re.search(r'<div class="notification-reach".*?\n</div>', page, re.S).group(0)
    if "<strong>Moins de 5 appareils</strong>" in panel:
        assert "<table" not in panel  # refused: no split
        return None
    total = re.search(r"<strong>Environ (.*?) appareils</strong>", panel).group(1)
    rows = re.findall(r'<tr><td>(.*?)</td><td class="count">(.*?)</td></tr>', panel)
    return {"total": number(total)} | {f"area:{name}": number(n) for name, n in rows}


def statistics_page(client, notification: Notification) -> dict[str, int | None]:
    page = client.get(
        reverse("admin:notifications_notification_change", args=[notification.pk])
    ).content.decode()
    rows = re.findall(
        r'<tr(?: class="detail")?><th scope="row">(?:&nbsp;&nbsp;— )?(.*?)</th>'
        r'<td class="count">(.*?)</td>',
        page,
    )
    shown = {html_lib.unescape(label): number(value) for label, value in rows}
    # the map of the reach by district, under the table (issue 16, item 6)
    figure = re.search(r'<figure [^>]*id="chart-reach">(.*?)</figure>', page, re.S).group(1)
    districts = re.findall(
        r'<tr class="chart-row"><th scope="row">(.*?)</th><td class="chart-value">(.*?)</td>',
        figure,
    )
    return shown | {f"carte:{html_lib.unescape(n)}": number(v) for n, v in districts}


def statistics_list(client) -> dict[str, int | None]:
    page = client.get(reverse("admin:notifications_notification_changelist")).content.decode()
    columns = ("targeted", "sent", "failed", "held", "capped", "opened")
    return {
        c: number(re.findall(rf'<td class="field-{c}_count[^"]*">(.*?)</td>', page)[0])
        for c in columns
    }


def residents_page(client) -> dict[str, int | None]:
    page = client.get("/admin/residents/residentstatistics/").content.decode()
    seen: dict[str, int | None] = {}
    for table in re.findall(r"<table[^>]*>(.*?)</table>", page, re.S):
        for name, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table, re.S):
            for i, value in enumerate(re.findall(r'<td class="count">(.*?)</td>', cells)):
                seen[f"{html_lib.unescape(name)}/{i}"] = number(value)
    return seen


# --- what the attacker knows of the mechanism --------------------------------------------------

Group = frozenset[str]  # the devices a cell counts, as a union of the unknown groups


def group(*atoms: str) -> Group:
    return frozenset(atoms)


def rounds_to(count: int, shown: int) -> bool:
    """Random rounding to BASE: a multiple shows as is, others as either neighbour."""
    low = count - count % BASE
    return shown == count if count % BASE == 0 else shown in (low, low + BASE)


@dataclass(frozen=True)
class Page:
    """A page as the attacker models it: what each cell counts, the page's relations (the
    published rule), which rows exist only when non-empty, and which rows are not rendered
    under a masked total (the reasons of a masked "failed")."""

    cells: dict[str, Group]
    relations: tuple[Relation, ...] = ()
    groups: bool = False  # a preview: area rows for non-empty areas, refused below k
    under: tuple[tuple[str, tuple[str, ...]], ...] = ()
    only: tuple[str, ...] = ()  # the list shows these cells only

    def counts(self, world: World) -> dict[str, int]:
        counts = {name: sum(world[a] for a in g) for name, g in self.cells.items()}
        if self.groups:
            counts = {n: c for n, c in counts.items() if n == "total" or c > 0}
        return counts

    def render(self, world: World, up: Callable[[Group], bool]) -> dict[str, int | None] | None:
        """What the page shows for ``world`` when the rounding of each group goes ``up``."""
        counts = self.counts(world)
        relations = self.relations
        if self.groups:
            relations = (Relation("total", tuple(n for n in counts if n != "total")),)
            if counts["total"] < K:
                return None
        masked = suppressed({n: Cell(c) for n, c in counts.items()}, relations)
        hidden = {c for total, parts in self.under if total in masked for c in parts}
        shown: dict[str, int | None] = {}
        for name, count in counts.items():
            if name in hidden or (self.only and name not in self.only):
                continue
            low = count - count % BASE
            rounded = count if count % BASE == 0 else low + BASE * up(self.cells[name])
            shown[name] = None if name in masked else rounded
        return shown

    def allows(self, world: World, shown: dict[str, int | None] | None) -> bool:
        """Could ``world`` have rendered ``shown``, whatever the rounding draws?"""
        pattern = self.render(world, lambda _g: False)
        if pattern is None or shown is None:
            return pattern is None and shown is None
        if pattern.keys() != shown.keys():
            return False
        counts = self.counts(world)
        for name, value in shown.items():
            if (value is None) != (pattern[name] is None):
                return False
            if value is not None and not rounds_to(counts[name], value):
                return False
        return True


def preview(groups: dict[str, Group]) -> Page:
    cells = {f"area:{name}": g for name, g in groups.items()}
    return Page({"total": frozenset().union(*cells.values())} | cells, groups=True)


STATUSES = (
    "Envoyées",
    "Échecs",
    "Retenues (heures calmes, en attente)",
    "Non envoyées",
    "En attente ou en cours d'envoi",
)
FAILED = tuple(str(r.label) for r in FAILED_REASONS)
SKIPPED = tuple(str(r.label) for r in SKIPPED_REASONS)
OPENED = "Ouvertes depuis la notification"
LIST_COLUMNS = {
    "targeted": "Appareils ciblés",
    "sent": "Envoyées",
    "failed": "Échecs",
    "held": "Retenues (heures calmes, en attente)",
    "capped": str(Reason.CAPPED.label),
    "opened": OPENED,
}


def statistics(*, only: tuple[str, ...] = ()) -> Page:
    """The publication: everyone sent but Bellevue's first device (dead token); nobody has
    opened it yet. The attacker is even granted where the failure is."""
    nobody = group()
    cells = {str(r.label): nobody for r in Reason} | dict.fromkeys(STATUSES, nobody)
    cells |= {
        "Appareils ciblés": group("M", "B", "N"),
        "Envoyées": group("M", "N"),
        "Échecs": group("B"),
        str(Reason.DEAD_TOKEN.label): group("B"),
        OPENED: nobody,
    }
    if not only:  # the page's map: the sent devices by district of their home
        cells |= {
            "carte:Bellevue": group("N"),
            "carte:Le Moulin": group("M"),
            f"carte:{ELSEWHERE}": nobody,
        }
    relations = (
        Relation("Appareils ciblés", STATUSES),
        Relation("Échecs", FAILED),
        Relation("Non envoyées", SKIPPED),
        Relation("Envoyées", (OPENED,)),
        Relation("Envoyées", ("carte:Bellevue", "carte:Le Moulin", f"carte:{ELSEWHERE}")),
    )
    # the page lists no reason under a masked total; the list shows "capped" whatever
    under = () if only else (("Échecs", FAILED), ("Non envoyées", SKIPPED))
    return Page(cells, relations, under=under, only=only)


def residents(everyone: Group, reachable: Group) -> Page:
    nobody = group()
    total = "Appareils enregistrés/0"
    cells = {
        total: everyone,
        "Appareils joignables par notification/0": reachable,
        "Personnalisation acceptée/0": nobody,
        "Le Moulin/0": group("M"),
        "Le Moulin/1": nobody,
        "Bellevue/0": everyone - {"M", "E"},
        "Bellevue/1": nobody,
        "Mobilité/0": everyone,
        "Ville de Lyonnay/0": nobody,
    }
    relations = (
        Relation(total, ("Appareils joignables par notification/0",)),
        Relation(total, ("Personnalisation acceptée/0",)),
    )
    return Page(cells, relations)


def scenario() -> list[Page]:
    """The pages the attacker reads, in order (``test_disclosure_attacker_…`` reads them)."""
    at_first, everyone = group("M", "B", "E"), group("M", "B", "N", "E")
    both_t0 = preview({"Le Moulin": group("M"), "Bellevue": group("B")})
    return [
        # t0: the roadwork over both districts, draft A (Le Moulin), A plus the house
        both_t0,
        preview({"Le Moulin": group("M")}),
        both_t0,
        # t0: city-wide, by home area; the residents' statistics
        preview({"Le Moulin": group("M"), "Bellevue": group("B"), ELSEWHERE: group("E")}),
        residents(at_first, at_first),
        # t1: one more device at the house
        preview({"Le Moulin": group("M"), "Bellevue": group("B", "N")}),
        preview({"Le Moulin": group("M"), "Bellevue": group("B", "N"), ELSEWHERE: group("E")}),
        residents(everyone, everyone),
        # t2: published, one failure (the house's first device, now unreachable)
        statistics(),
        statistics(only=tuple(LIST_COLUMNS.values())),
        residents(everyone, group("M", "N", "E")),
        preview({"Le Moulin": group("M"), "Bellevue": group("N"), ELSEWHERE: group("E")}),
    ]


def skeleton(page: Page, world: World) -> dict[str, bool] | None:
    """Which rows a world renders and which of them are masked (no rounding draw needed)."""
    shown = page.render(world, lambda _g: False)
    return None if shown is None else {name: value is None for name, value in shown.items()}


def worlds() -> list[World]:
    return [
        dict(zip(ATOMS, values, strict=True))
        for values in itertools.product(range(SEARCH + 1), repeat=len(ATOMS))
    ]


def deductions(
    pages: list[Page], seen: list[dict[str, int | None] | None], among: list[World] | None = None
) -> tuple[list[World], dict[str, set[int]]]:
    """Every hypothetical world that renders all the pages seen, and each target's values."""
    found = [
        w
        for w in (worlds() if among is None else among)
        if all(p.allows(w, s) for p, s in zip(pages, seen, strict=True))
    ]
    return found, {t: {f(w) for w in found} for t, f in TARGETS.items()}


def assert_nothing_pinned(values: dict[str, set[int]], context: object) -> None:
    for target, possible in values.items():
        pinned = len(possible) == 1 and 0 < next(iter(possible)) < K
        assert not pinned, f"{target} = {possible} deduced from {context}"


# --- the attack ---------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["clé-a" * 10, "clé-b" * 10, "clé-c" * 10])
def test_disclosure_attacker_learns_no_count_below_k(
    secret,
    settings,
    fcm_settings,
    fake_fcm,
    client,
    superuser,
    city,
    mobility,
    django_capture_on_commit_callbacks,
):
    settings.SECRET_KEY = secret  # another draw of every rounding
    staff_login(client, superuser)  # after: the session is signed with the key
    AreaFactory(slug="moulin", name="Le Moulin", geometry=square(*MOULIN_AT, 0.004))
    AreaFactory(slug="bellevue", name="Bellevue", geometry=square(*HOUSE_AT, 0.004))

    def resident(at):
        return phone(at=at, radius_m=100, follows=[mobility])

    for _ in range(TRUTH["M"]):
        resident(MOULIN_AT)
    first = resident(HOUSE_AT)
    for _ in range(TRUTH["E"]):
        resident(FAR)
    fake_fcm.set_faults(unregistered=[first.push_token])

    both = square(CENTRE_LON, CENTRE_LAT, 0.02)
    works = WorksFactory(organization=city, category=mobility, notify=True, geometry=both)
    content_areas_refresh(item=works)
    alert = NewsFactory(
        organization=city, category=mobility, geometry=None, urgency=Urgency.ALERT, notify=True
    )
    works_url = admin_url("works", "change", works.pk)
    alert_url = admin_url("news", "change", alert.pk)

    def save_geometry(geometry):
        works.refresh_from_db()
        works.geometry = geometry
        content_save(item=works)

    seen: list[dict[str, int | None] | None] = []
    # t0: the roadwork over both districts, draft A (Le Moulin), A plus the house
    seen.append(read_preview(client, works_url))
    draft_a = square(*MOULIN_AT, 0.005)
    save_geometry(draft_a)
    seen.append(read_preview(client, works_url))
    save_geometry(MultiPolygon(*draft_a, *square(*HOUSE_AT, 0.0005), srid=4326))
    seen.append(read_preview(client, works_url))
    save_geometry(both)
    # t0: city-wide, and the residents' statistics
    seen += [read_preview(client, alert_url), residents_page(client)]
    # t1: one more device moves into the house
    resident(HOUSE_AT)
    seen += [read_preview(client, works_url), read_preview(client, alert_url)]
    seen.append(residents_page(client))
    # t2: published; Bellevue's first device has a dead token
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works)
    notification = Notification.objects.get(item_type="works", item_id=works.pk)
    seen.append(statistics_page(client, notification))
    seen.append({LIST_COLUMNS[c]: v for c, v in statistics_list(client).items()})
    seen += [residents_page(client), read_preview(client, alert_url)]

    pages = scenario()
    # the attacker's model of the pages is right: the true population renders them
    wrong = [(p, s) for p, s in zip(pages, seen, strict=True) if not p.allows(TRUTH, s)]
    assert not wrong, repr(wrong)
    found, values = deductions(pages, seen)
    assert TRUTH in found
    assert_nothing_pinned(values, seen)


def test_disclosure_attacker_learns_no_count_below_k_under_any_rounding_draw():
    """The same attack for every way the keys could round the counts of the scenario: each
    group of devices shown with a count that is not a multiple of 5 rounds up or down."""
    pages = scenario()
    shown_groups = {
        g
        for page in pages
        for name, g in page.cells.items()
        if (n := sum(TRUTH[a] for a in g)) >= K and n % BASE
    }
    ordered = sorted(shown_groups, key=sorted)
    # the masks and rows do not depend on the draw: keep the worlds that match them, once
    pattern = [skeleton(p, TRUTH) for p in pages]
    candidates = [w for w in worlds() if [skeleton(p, w) for p in pages] == pattern]
    for draw in itertools.product((False, True), repeat=len(ordered)):
        up = dict(zip(ordered, draw, strict=True))
        seen = [p.render(TRUTH, lambda g, up=up: up.get(g, False)) for p in pages]
        found, values = deductions(pages, seen, among=candidates)
        assert TRUTH in found
        assert_nothing_pinned(values, {"up": [sorted(g) for g, u in up.items() if u]})
