"""A simulated city with a hidden ground-truth preference model (architecture.md: the protocol).

Districts on a grid; residents with a home, often a workplace, sometimes a school, each with a
radius; a Dirichlet interest mix over categories; followed categories drawn from (but not equal
to) that mix; a personal distance sensitivity; a daily activity rate. News, works and events
arrive every day with a location (or none: city-wide news), category, template text, hidden
quality, urgency and time window.

Hidden utility of item i for resident r at time t (never shown to the rankers)::

    u = a (K·interest[r, cat] - 1) + 0.5 quality + b exp(-d_nearest_place / scale_r)
        + 1.5 severity exp(-d_route / 250 m) [works] + c time_relevance(i, t)
        + urgency (important 0.5, alert 2.0 x proximity) + ε[r, i] - 2.0

with a = ``interest_weight`` (0.6), b = ``distance_weight`` (2.0), c = ``recency_weight`` (1.5),
ε ~ N(0, ``noise_sd`` = 0.5) fixed per (resident, item) — taste nobody can predict — and a
city-wide item counting as 0.35 proximity. With ``weight_spread`` > 0 each resident's a, b
and c are multiplied by their own log-normal factors (a population mixing several shapes);
``distance_scale_m`` is the median personal scale; ``followed_categories`` fixes how many
categories every resident declares (``None``: Poisson(2), drawn from the interest mix).
Time relevance decays with age (news), rises before the start and
is 1 while running (events, works) and is 0 once an item is over: it is then not live at all.
Graded relevance (0-3) cuts u at 1.0, 1.75 and 2.5. Behaviour: position k of a page is
examined with probability 0.85^k; an examined item is opened with probability
sigmoid(2 (u - 1.25)); an opened item is saved or liked (u > 2.5, p 0.6) and shared
(u > 3, p 0.2); an examined item with u < 0 is dismissed with probability 0.05. Impressions are
logged for examined positions (what the app reports when an item scrolls into view).

The logging policy is the city's current app: newest first, with ``random_slot_share`` of the
slots filled with a random live item (exploration).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from apps.recommend.engine.candidates import ALERT, EVENTS, IMPORTANT, INFO, NEWS, WORKS, Candidates
from apps.recommend.engine.context import (
    DISMISS,
    FEED,
    IMPRESSION,
    LIKE,
    OPEN,
    SAVE,
    SHARE,
    Place,
    ResidentProfile,
)
from apps.recommend.engine.distance import haversine_m, segment_distance_m
from apps.recommend.engine.features import DAY_S
from apps.recommend.engine.text_vectors import encode_texts
from apps.recommend.offline.fitting import InteractionLog

CENTRE_LON, CENTRE_LAT = 4.8357, 45.7640
EPOCH_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z, day 0 of the simulation
DISTRICTS = (
    "Vaise", "Croix-Rousse", "Brotteaux", "Saint-Just", "Presqu'île",
    "Part-Dieu", "Confluence", "Guillotière", "Monplaisir",
)  # fmt: skip
STREETS = (
    "rue de la République", "cours Lafayette", "avenue Jean-Jaurès", "quai Saint-Antoine",
    "rue Garibaldi", "boulevard des Belges", "rue Paul-Bert", "place Bellecour",
    "rue Duguesclin", "avenue Berthelot", "rue Marietton", "montée de la Grande-Côte",
    "rue de Marseille", "cours Gambetta", "rue Servient", "quai Perrache", "rue Vendôme",
    "avenue Félix-Faure", "rue Victor-Hugo", "boulevard de la Croix-Rousse",
)  # fmt: skip
CATEGORIES = {  # id: (name, vocabulary)
    1: ("Culture", "concert exposition théâtre musée bibliothèque festival cinéma danse "
        "spectacle artistes patrimoine lecture"),
    2: ("Sport", "match course piscine gymnase tournoi stade randonnée vélo football basket "
        "marathon fitness"),
    3: ("Mobilité", "bus tramway circulation stationnement cyclable métro déviation trafic "
        "parking ligne arrêt horaires"),
    4: ("Environnement", "jardin arbres compost propreté recyclage nature parc plantation "
        "biodiversité déchets climat fleurs"),
    5: ("Solidarité", "association collecte seniors bénévoles aide repas accueil entraide dons "
        "solidaire logement emploi"),
    6: ("Jeunesse", "enfants école crèche ados atelier vacances famille périscolaire jeux "
        "étudiants cantine loisirs"),
    7: ("Vie municipale", "conseil municipal concertation réunion budget participatif vote élus "
        "mairie consultation citoyens projet"),
    8: ("Urbanisme", "chantier rénovation voirie construction aménagement réseau canalisation "
        "électricité fibre trottoir façade égout"),
}  # fmt: skip
TYPE_WORDS = {NEWS: "actualité annonce", WORKS: "travaux chantier", EVENTS: "rendez-vous programme"}
# Category mix of each item type (ids 1..8).
TYPE_CATEGORY_P = {
    NEWS: np.array([1, 1, 1, 1, 1, 1, 1.5, 1.0]),
    WORKS: np.array([0, 0, 0.35, 0.2, 0, 0, 0, 0.45]),
    EVENTS: np.array([0.3, 0.2, 0, 0.1, 0.12, 0.15, 0.13, 0]),
}
K = len(CATEGORIES)


@dataclass(frozen=True)
class SimConfig:
    residents: int = 1200
    days: int = 21  # logged days; the last ``test_days`` are the test period
    test_days: int = 1
    burn_in_days: int = 14  # items published before the log starts (a steady catalog)
    news_per_day: float = 14.0
    works_per_day: float = 5.0
    events_per_day: float = 9.0
    new_resident_share: float = 0.15  # residents who install the app on the test day
    random_slot_share: float = 0.2
    page_size: int = 20
    examine_p: float = 0.85
    # Weights of the hidden utility (module doc); change them to test how robust a result is.
    interest_weight: float = 0.6
    distance_weight: float = 2.0
    noise_sd: float = 0.5
    recency_weight: float = 1.5
    weight_spread: float = 0.0  # sd of the per-resident log factors on a, b and c
    distance_scale_m: float = 900.0  # median personal distance scale
    followed_categories: int | None = None  # declared categories per resident; None: Poisson(2)
    seed: int = 0


@dataclass(frozen=True, eq=False)
class City:
    """The generated world: the item catalog, residents' profiles and their hidden truth."""

    config: SimConfig
    catalog: Candidates  # every item ever published (popularity filled per request)
    quality: np.ndarray
    district_of_item: np.ndarray  # -1 for city-wide items
    profiles: list[ResidentProfile]
    interest: np.ndarray  # residents x K (Dirichlet)
    scale_m: np.ndarray  # personal distance sensitivity
    activity: np.ndarray  # sessions per day
    home_district: np.ndarray
    new: np.ndarray  # joined on the test day: no history (cold start)
    noise: np.ndarray  # residents x items, the unpredictable part of the utility
    grid: tuple[float, float, float, float]  # min lon, min lat, district width, height (deg)
    weights: np.ndarray  # residents x 3: the interest, distance and recency weights

    @property
    def test_start_s(self) -> float:
        return EPOCH_S + (self.config.days - self.config.test_days) * DAY_S


def _district_bounds(grid, d: int) -> tuple[float, float, float, float]:
    lon0, lat0, w, h = grid
    return lon0 + (d % 3) * w, lat0 + (d // 3) * h, w, h


def _points_in(rng, grid, districts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon0, lat0, w, h = grid
    lon = lon0 + (districts % 3 + rng.random(len(districts))) * w
    lat = lat0 + (districts // 3 + rng.random(len(districts))) * h
    return lon, lat


def _items(config: SimConfig, rng: np.random.Generator, grid, district_p):
    rows = []
    for day_index in range(-config.burn_in_days, config.days):
        for item_kind, rate in (
            (NEWS, config.news_per_day),
            (WORKS, config.works_per_day),
            (EVENTS, config.events_per_day),
        ):
            rows += [(item_kind, day_index)] * int(rng.poisson(rate))
    n = len(rows)
    kind = np.array([r[0] for r in rows], dtype=np.int8)
    day = np.array([r[1] for r in rows], dtype=np.float64)
    published = EPOCH_S + (day + rng.uniform(7, 19, n) / 24) * DAY_S
    category = np.array(
        [rng.choice(K, p=TYPE_CATEGORY_P[k] / TYPE_CATEGORY_P[k].sum()) + 1 for k in kind]
    )
    district = rng.choice(9, size=n, p=district_p)
    lon, lat = _points_in(rng, grid, district)
    city_wide = (kind == NEWS) & (rng.random(n) < 0.35)
    lon[city_wide], lat[city_wide], district[city_wide] = np.nan, np.nan, -1
    start = np.full(n, np.nan)
    end = np.full(n, np.nan)
    expires = np.full(n, np.nan)
    news, works, events = kind == NEWS, kind == WORKS, kind == EVENTS
    expiring = news & (rng.random(n) < 0.7)
    expires[expiring] = published[expiring] + rng.uniform(5, 20, expiring.sum()) * DAY_S
    start[works] = published[works] + rng.uniform(0, 10, works.sum()) * DAY_S
    end[works] = start[works] + rng.uniform(1, 30, works.sum()) * DAY_S
    start[events] = published[events] + rng.uniform(1, 21, events.sum()) * DAY_S
    long_event = rng.random(n) < 0.3
    duration = np.where(long_event, rng.uniform(1, 3, n) * DAY_S, rng.uniform(2, 4, n) * 3600)
    end[events] = start[events] + duration[events]
    urgency = np.full(n, INFO, dtype=np.int8)
    roll = rng.random(n)
    alert_p = np.select([news, works], [0.01, 0.02], 0.0)
    important_p = np.select([news, works], [0.05, 0.15], 0.02)
    urgency[roll < alert_p + important_p] = IMPORTANT
    urgency[roll < alert_p] = ALERT
    severity = np.where(works, rng.choice([0.3, 0.6, 1.0], n), 0.0)
    organization = np.where(category == 1, 3, np.where(category == 2, 4, 1 + (rng.random(n) < 0.4)))
    organization[works & (rng.random(n) < 0.4)] = 5
    texts = []
    for i in range(n):
        words = CATEGORIES[int(category[i])][1].split()
        picked = " ".join(rng.choice(words, 4, replace=False))
        where = (
            ""
            if district[i] < 0
            else f"{STREETS[rng.integers(len(STREETS))]} {DISTRICTS[district[i]]}"
        )
        texts.append(f"{TYPE_WORDS[int(kind[i])]} {picked} {where}")
    catalog = Candidates(
        item_type=kind,
        item_id=np.arange(1, n + 1, dtype=np.int64),
        category=category.astype(np.int64),
        organization=organization.astype(np.int64),
        lon=lon,
        lat=lat,
        published_s=published,
        start_s=start,
        end_s=end,
        expires_s=expires,
        urgency=urgency,
        popularity=np.zeros(n),
        severity=severity,
        text=encode_texts(texts),
        area_item=np.flatnonzero(district >= 0).astype(np.int64),
        area_id=(district[district >= 0] + 1).astype(np.int64),  # area ids 1..9
    )
    return catalog, rng.normal(0, 1, n), district


def generate_city(config: SimConfig) -> City:
    """Draw a city, its items and its residents from ``config.seed``."""
    rng = np.random.default_rng(config.seed)
    width_deg = 3.0 / (111.32 * np.cos(np.radians(CENTRE_LAT)))  # 3 km districts
    height_deg = 3.0 / 111.32
    grid = (CENTRE_LON - 1.5 * width_deg, CENTRE_LAT - 1.5 * height_deg, width_deg, height_deg)
    district_p = np.array([1, 1.2, 1.2, 0.8, 1.6, 1.4, 1.0, 1.3, 0.9])
    district_p /= district_p.sum()
    catalog, quality, district_of_item = _items(config, rng, grid, district_p)

    n = config.residents
    home_district = rng.choice(9, size=n, p=district_p)
    home_lon, home_lat = _points_in(rng, grid, home_district)
    work_lon, work_lat = _points_in(rng, grid, rng.choice(9, size=n, p=district_p))
    school_lon, school_lat = home_lon + rng.normal(0, 0.006, n), home_lat + rng.normal(0, 0.004, n)
    has_work, has_school = rng.random(n) < 0.65, rng.random(n) < 0.2
    interest = rng.dirichlet(np.full(K, 0.3), size=n)
    profiles = []
    for r in range(n):
        places = [
            Place(
                "Domicile",
                float(home_lon[r]),
                float(home_lat[r]),
                float(rng.choice([500, 800, 1000, 1500])),
            )
        ]
        if has_work[r]:
            places.append(
                Place(
                    "Travail",
                    float(work_lon[r]),
                    float(work_lat[r]),
                    float(rng.choice([300, 500, 1000])),
                )
            )
        if has_school[r]:
            places.append(Place("École", float(school_lon[r]), float(school_lat[r]), 500.0))
        n_follow = min(int(rng.poisson(2.0)), K)
        if config.followed_categories is not None:
            n_follow = min(config.followed_categories, K)
        weights = interest[r] + 0.05
        follows = rng.choice(K, size=n_follow, replace=False, p=weights / weights.sum()) + 1
        areas = {int(home_district[r]) + 1} if rng.random() < 0.4 else set()
        orgs = {int(rng.integers(1, 6))} if rng.random() < 0.1 else set()
        profiles.append(
            ResidentProfile(
                tuple(places), frozenset(int(c) for c in follows), frozenset(areas), frozenset(orgs)
            )
        )
    base = np.array([config.interest_weight, config.distance_weight, config.recency_weight])
    weights = np.tile(base, (n, 1))
    if config.weight_spread > 0:
        # A separate stream, so that the default city stays draw-for-draw the same.
        spread = np.random.default_rng(config.seed + 2_000_003)
        weights *= np.exp(spread.normal(0, config.weight_spread, (n, 3)))
    return City(
        config=config,
        catalog=catalog,
        quality=quality,
        district_of_item=district_of_item,
        profiles=profiles,
        interest=interest,
        scale_m=np.exp(rng.normal(np.log(config.distance_scale_m), 0.5, n)),
        activity=np.clip(np.exp(rng.normal(np.log(0.35), 1.0, n)), 0.02, 4.0),
        home_district=home_district,
        new=rng.random(n) < config.new_resident_share,
        noise=rng.normal(0, config.noise_sd, (n, len(catalog))).astype(np.float32),
        grid=grid,
        weights=weights,
    )


def time_relevance(c: Candidates, rows: np.ndarray, t: float) -> np.ndarray:
    """How timely each item is at ``t`` (0 when it is over)."""
    kind, start, end = c.item_type[rows], c.start_s[rows], c.end_s[rows]
    age = np.maximum(t - c.published_s[rows], 0.0)
    with np.errstate(invalid="ignore"):
        before = np.nan_to_num(start - t) > 0
        over = end <= t
    to_start = np.maximum(np.nan_to_num(start - t), 0.0)
    relevance = np.where(
        kind == NEWS,
        np.exp(-age / (3 * DAY_S)),
        np.where(
            before,
            np.where(
                kind == WORKS,
                0.6 * np.exp(-to_start / (3 * DAY_S)),
                np.exp(-to_start / (4 * DAY_S)),
            ),
            1.0,
        ),
    )
    return np.where(over, 0.0, relevance)


def utility(city: City, r: int, rows: np.ndarray, t: float) -> np.ndarray:
    """The hidden utility of the catalog ``rows`` for resident ``r`` at ``t``."""
    c = city.catalog
    profile = city.profiles[r]
    p_lon = np.array([p.lon for p in profile.places])
    p_lat = np.array([p.lat for p in profile.places])
    d = haversine_m(c.lon[rows, None], c.lat[rows, None], p_lon[None, :], p_lat[None, :]).min(
        axis=1
    )
    proximity = np.where(np.isnan(d), 0.35, np.exp(-np.nan_to_num(d) / city.scale_m[r]))
    route = np.zeros(len(rows))
    if len(profile.places) >= 2:
        home, work = profile.places[0], profile.places[1]
        d_route = segment_distance_m(
            c.lon[rows], c.lat[rows], home.lon, home.lat, work.lon, work.lat
        )
        route = np.where(
            c.item_type[rows] == WORKS,
            c.severity[rows] * np.exp(-np.nan_to_num(d_route, nan=1e9) / 250.0),
            0.0,
        )
    urgency = c.urgency[rows]
    bonus = np.where(urgency == ALERT, 2.0 * proximity, np.where(urgency == IMPORTANT, 0.5, 0.0))
    interest_weight, distance_weight, recency_weight = city.weights[r]
    return (
        interest_weight * (K * city.interest[r, c.category[rows] - 1] - 1.0)
        + 0.5 * city.quality[rows]
        + distance_weight * proximity
        + 1.5 * route
        + recency_weight * time_relevance(c, rows, t)
        + bonus
        + city.noise[r, rows]
        - 2.0
    )


def grades(u: np.ndarray) -> np.ndarray:
    """Graded relevance 0-3 from the hidden utility."""
    return np.searchsorted(np.array([1.0, 1.75, 2.5]), u, side="right").astype(np.float64)


def live_rows(city: City, t: float) -> np.ndarray:
    return np.flatnonzero(city.catalog.live(t))


def simulate_log(city: City) -> InteractionLog:
    """Feed sessions of every resident during the training days, under the logging policy."""
    config = city.config
    rng = np.random.default_rng(config.seed + 1_000_003)
    c = city.catalog
    cols: dict[str, list] = {"resident": [], "item": [], "action": [], "at": []}

    def log(r: int, item: int, action: int, at: float) -> None:
        cols["resident"].append(r)
        cols["item"].append(item)
        cols["action"].append(action)
        cols["at"].append(at)

    for day in range(config.days - config.test_days):
        sessions = rng.poisson(city.activity * ~city.new)
        for r in (int(x) for x in np.flatnonzero(sessions)):
            for t in np.sort(EPOCH_S + (day + rng.uniform(7, 22, sessions[r]) / 24) * DAY_S):
                pool = live_rows(city, t)
                newest = pool[np.argsort(-c.published_s[pool], kind="stable")]
                page: list[int] = []
                used = set()
                cursor = 0
                while len(page) < min(config.page_size, len(pool)):
                    if rng.random() < config.random_slot_share:
                        item = int(rng.choice(pool))
                    else:
                        while int(newest[cursor]) in used:
                            cursor += 1
                        item = int(newest[cursor])
                    if item not in used:
                        used.add(item)
                        page.append(item)
                shown = np.array(page)
                examined = shown[rng.random(len(shown)) < config.examine_p ** np.arange(len(shown))]
                u = utility(city, r, examined, t)
                for k, (item, value) in enumerate(zip(examined, u, strict=True)):
                    at = t + 3.0 * k
                    log(r, item, IMPRESSION, at)
                    if rng.random() < 1.0 / (1.0 + np.exp(-2.0 * (value - 1.25))):
                        log(r, item, OPEN, at + 1)
                        if value > 2.5 and rng.random() < 0.6:
                            log(r, item, SAVE if rng.random() < 0.5 else LIKE, at + 2)
                        if value > 3.0 and rng.random() < 0.2:
                            log(r, item, SHARE, at + 2)
                    elif value < 0 and rng.random() < 0.05:
                        log(r, item, DISMISS, at + 1)
    n = len(cols["action"])
    return InteractionLog(
        resident=np.array(cols["resident"], dtype=np.int64),
        item=np.array(cols["item"], dtype=np.int64),
        action=np.array(cols["action"], dtype=np.int64),
        context=np.full(n, FEED, dtype=np.int64),
        at_s=np.array(cols["at"], dtype=np.float64),
    )
