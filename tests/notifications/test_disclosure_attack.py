"""An editor plays the attacker against the staff statistics (issue 11, item 8).

A small known population: Le Moulin, five homes; Bellevue, one house with one device (later
a second one moves in); seven devices far away. The attacker reads the real admin pages as a
logged-in staff member — the reach preview of a roadwork over both districts, of two saved
draft geometries that differ by the house, of a city-wide alert, the residents' statistics,
and after publication the notification's statistics page and list (Bellevue's first device
has a dead token: one failure) — at three moments: before, after the new device, after
publication. From the numbers rendered in the HTML, and the published mechanism
(docs/privacy.md: random rounding to 5, masking below 5 and complementary masking by the
published rule), the attacker keeps every hypothetical population that would have rendered
exactly these pages, and must not pin any count from 1 to 4.
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


def preview(client, url: str) -> dict[str, int | None] | None:
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
    return {html_lib.unescape(label): number(value) for label, value in rows}


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


def rounds_to(count: int, shown: int) -> bool:
    """Random rounding to BASE: a multiple shows as is, others as either neighbour."""
    low = count - count % BASE
    return shown == count if count % BASE == 0 else shown in (low, low + BASE)


@dataclass
class Observation:
    """One rendered page, and what it would count in a hypothetical world."""

    shown: dict[str, int | None] | None  # None: a refused preview
    cells: Callable[[World], dict[str, int]]
    relations: Callable[[dict[str, int]], list[Relation]]
    rows_are_groups: bool = False  # area rows exist only for areas with devices

    def allows(self, world: World) -> bool:
        counts = self.cells(world)
        if self.rows_are_groups:
            counts = {n: c for n, c in counts.items() if n == "total" or c > 0}
        if self.shown is None:  # refused: only the total is known, below k
            return counts["total"] < K
        if self.rows_are_groups and set(counts) != set(self.shown):
            return False
        masked = suppressed({n: Cell(c) for n, c in counts.items()}, self.relations(counts))
        for name, shown in self.shown.items():
            if (shown is None) != (name in masked):
                return False
            if shown is not None and not rounds_to(counts[name], shown):
                return False
        return True


def preview_relations(counts: dict[str, int]) -> list[Relation]:
    return [Relation("total", tuple(n for n in counts if n != "total"))]


def preview_of(groups: dict[str, Callable[[World], int]]) -> Callable[[World], dict[str, int]]:
    def cells(world: World) -> dict[str, int]:
        by_area = {f"area:{name}": count(world) for name, count in groups.items()}
        return {"total": sum(by_area.values())} | by_area

    return cells


def statistics_relations(_counts: dict[str, int]) -> list[Relation]:
    return [
        Relation("Appareils ciblés", STATUSES),
        Relation("Échecs", tuple(str(r.label) for r in FAILED_REASONS)),
        Relation("Non envoyées", tuple(str(r.label) for r in SKIPPED_REASONS)),
        Relation("Envoyées", ("Ouvertes depuis la notification",)),
    ]


STATUSES = (
    "Envoyées",
    "Échecs",
    "Retenues (heures calmes, en attente)",
    "Non envoyées",
    "En attente ou en cours d'envoi",
)


def statistics_cells(world: World) -> dict[str, int]:
    """The publication: everyone sent but Bellevue's first device (dead token); nobody has
    opened it yet. The attacker is even granted where the failure is."""
    zero = {str(r.label): 0 for r in Reason} | dict.fromkeys(STATUSES, 0)
    return zero | {
        "Appareils ciblés": world["M"] + world["B"] + world["N"],
        "Envoyées": world["M"] + world["N"],
        "Échecs": world["B"],
        str(Reason.DEAD_TOKEN.label): world["B"],
        "Ouvertes depuis la notification": 0,
    }


LIST_COLUMNS = {
    "targeted": "Appareils ciblés",
    "sent": "Envoyées",
    "failed": "Échecs",
    "held": "Retenues (heures calmes, en attente)",
    "capped": str(Reason.CAPPED.label),
    "opened": "Ouvertes depuis la notification",
}


def residents_cells(
    everyone: Callable[[World], int], pushable: Callable[[World], int]
) -> Callable[[World], dict[str, int]]:
    def cells(world: World) -> dict[str, int]:
        return {
            "Appareils enregistrés/0": everyone(world),
            "Appareils joignables par notification/0": pushable(world),
            "Personnalisation acceptée/0": 0,
            "Le Moulin/0": world["M"],
            "Le Moulin/1": 0,
            "Bellevue/0": everyone(world) - world["M"] - world["E"],
            "Bellevue/1": 0,
            "Mobilité/0": everyone(world),
            "Ville de Lyonnay/0": 0,
        }

    return cells


def residents_relations(_counts: dict[str, int]) -> list[Relation]:
    total = "Appareils enregistrés/0"
    return [
        Relation(total, ("Appareils joignables par notification/0",)),
        Relation(total, ("Personnalisation acceptée/0",)),
    ]


def deductions(observations: list[Observation]) -> tuple[list[World], dict[str, set[int]]]:
    """Every hypothetical world that renders all the pages seen, and each target's values."""
    worlds = []
    for values in itertools.product(range(SEARCH + 1), repeat=len(ATOMS)):
        world = dict(zip(ATOMS, values, strict=True))
        if all(o.allows(world) for o in observations):
            worlds.append(world)
    return worlds, {t: {f(w) for w in worlds} for t, f in TARGETS.items()}


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
    client.force_login(superuser)  # after: the session is signed with the key
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
    works_url, alert_url = (
        admin_url("works", "change", works.pk),
        admin_url("news", "change", alert.pk),
    )

    def save_geometry(geometry):
        works.refresh_from_db()
        works.geometry = geometry
        content_save(item=works)

    moulin = lambda w: w["M"]  # noqa: E731 - the groups of each preview, by area
    far = lambda w: w["E"]  # noqa: E731
    before = lambda w: w["M"] + w["B"] + w["E"]  # noqa: E731 - every device, before N
    everyone = lambda w: sum(w.values())  # noqa: E731
    observations: list[Observation] = []

    # t0 — the roadwork over both districts; draft A (Le Moulin), then A plus the house
    observations.append(
        Observation(
            preview(client, works_url),
            preview_of({"Le Moulin": moulin, "Bellevue": lambda w: w["B"]}),
            preview_relations,
            rows_are_groups=True,
        )
    )
    draft_a = square(*MOULIN_AT, 0.005)
    save_geometry(draft_a)
    observations.append(
        Observation(
            preview(client, works_url), preview_of({"Le Moulin": moulin}), preview_relations, True
        )
    )
    save_geometry(MultiPolygon(*draft_a, *square(*HOUSE_AT, 0.0005), srid=4326))
    observations.append(
        Observation(
            preview(client, works_url),
            preview_of({"Le Moulin": moulin, "Bellevue": lambda w: w["B"]}),
            preview_relations,
            True,
        )
    )
    save_geometry(both)
    # t0 — city-wide: everyone, by the area of their home; the residents' statistics
    observations.append(
        Observation(
            preview(client, alert_url),
            preview_of({"Le Moulin": moulin, "Bellevue": lambda w: w["B"], ELSEWHERE: far}),
            preview_relations,
            True,
        )
    )
    observations.append(
        Observation(
            residents_page(client),
            residents_cells(before, before),
            residents_relations,
        )
    )

    # t1 — one more device moves into the house: the same pages again
    resident(HOUSE_AT)
    bellevue = lambda w: w["B"] + w["N"]  # noqa: E731
    for url, groups in (
        (works_url, {"Le Moulin": moulin, "Bellevue": bellevue}),
        (alert_url, {"Le Moulin": moulin, "Bellevue": bellevue, ELSEWHERE: far}),
    ):
        observations.append(
            Observation(preview(client, url), preview_of(groups), preview_relations, True)
        )
    observations.append(
        Observation(
            residents_page(client), residents_cells(everyone, everyone), residents_relations
        )
    )

    # t2 — published: one failure (Bellevue's first device, now unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        content_publish(item=works)
    notification = Notification.objects.get(item_type="works", item_id=works.pk)
    page = statistics_page(client, notification)
    listing = statistics_list(client)
    assert set(page) <= set(statistics_cells(TRUTH))
    observations.append(Observation(page, statistics_cells, statistics_relations))
    observations.append(
        Observation(
            {LIST_COLUMNS[c]: v for c, v in listing.items()}, statistics_cells, statistics_relations
        )
    )
    observations.append(
        Observation(
            residents_page(client),
            residents_cells(everyone, lambda w: w["M"] + w["N"] + w["E"]),
            residents_relations,
        )
    )
    observations.append(
        Observation(
            preview(client, alert_url),
            preview_of({"Le Moulin": moulin, "Bellevue": lambda w: w["N"], ELSEWHERE: far}),
            preview_relations,
            True,
        )
    )

    worlds, values = deductions(observations)

    # the attacker's model of the pages is right: the true population renders them
    wrong = [o.shown for o in observations if not o.allows(TRUTH)]
    assert not wrong, repr(wrong)
    assert TRUTH in worlds
    for target, possible in values.items():
        pinned = len(possible) == 1 and 0 < next(iter(possible)) < K
        assert not pinned, f"{target} = {possible} deduced from {observations}"
