"""Words of the bench city: publishers, categories, streets, and item texts in fr/en (no ORM).

Texts are assembled from templates with a seeded ``random.Random``, long enough (a title, a
summary, a body of several sentences) for the full-text indexes to hold realistic documents.
"""

from __future__ import annotations

import random

CITY_NAME = "Bellerive"
CITY_SLUG = "bench-bellerive"
#: ``Area.code`` of the commune: marks a database built by ``bench_city`` (see ``build``).
CITY_CODE = "BENCH"

#: (slug, French name, English name, colour, icon, content types it is used for)
CATEGORIES = (
    ("bench-travaux", "Travaux", "Roadworks", "#e8590c", "construction", "works"),
    ("bench-mobilite", "Mobilité", "Mobility", "#1971c2", "directions_bus", "works news"),
    ("bench-eau", "Eau et assainissement", "Water", "#1098ad", "water_drop", "works news"),
    ("bench-reseaux", "Réseaux et énergie", "Networks and energy", "#f08c00", "bolt", "works"),
    ("bench-proprete", "Propreté", "Cleanliness", "#5c940d", "delete", "news works"),
    ("bench-culture", "Culture", "Culture", "#9c36b5", "theater_comedy", "events news"),
    ("bench-sport", "Sport", "Sport", "#2f9e44", "sports_soccer", "events news"),
    (
        "bench-jeunesse",
        "Enfance et jeunesse",
        "Children and youth",
        "#e64980",
        "child_care",
        "events news",
    ),
    ("bench-seniors", "Seniors", "Seniors", "#845ef7", "elderly", "events news"),
    ("bench-environnement", "Environnement", "Environment", "#37b24d", "park", "events news works"),
    ("bench-marches", "Marchés", "Markets", "#fab005", "storefront", "events"),
    ("bench-citoyennete", "Vie citoyenne", "Civic life", "#495057", "how_to_vote", "news events"),
    ("bench-securite", "Sécurité", "Safety", "#c92a2a", "shield", "news"),
    ("bench-sante", "Santé", "Health", "#0ca678", "medical_services", "news events"),
    ("bench-urbanisme", "Urbanisme", "Urban planning", "#868e96", "apartment", "news works"),
)

#: (slug, name, kind, content types it publishes)
ORGANIZATIONS = (
    ("bench-ville", "Ville de Bellerive", "city", "news events works"),
    ("bench-metropole", "Bellerive Métropole", "intercommunality", "news works"),
    ("bench-voirie", "Direction de la voirie", "service", "works news"),
    ("bench-culture", "Direction de la culture", "service", "events news"),
    ("bench-sports", "Service des sports", "service", "events news"),
    ("bench-education", "Service éducation et jeunesse", "service", "events news"),
    ("bench-espaces-verts", "Parcs et jardins", "service", "works events news"),
    ("bench-eau", "Eau de Bellerive", "utility", "works news"),
    ("bench-energie", "Réseau électrique de Bellerive", "utility", "works"),
    ("bench-fibre", "Bellerive Fibre", "utility", "works"),
    ("bench-transports", "Transports en commun de Bellerive", "other", "news works"),
    ("bench-comite-fetes", "Comité des fêtes", "association", "events"),
    ("bench-club-sportif", "Union sportive de Bellerive", "association", "events"),
    ("bench-mjc", "Maison des jeunes et de la culture", "association", "events"),
)

_STREET_KINDS = ("rue", "rue", "rue", "avenue", "boulevard", "place", "quai", "chemin", "impasse")
_STREET_NAMES = (
    "Victor-Hugo", "Jean-Jaurès", "Pasteur", "de la République", "Gambetta", "Voltaire",
    "Émile-Zola", "Paul-Bert", "Jules-Ferry", "des Écoles", "de la Gare", "du Marché",
    "Anatole-France", "Jean-Moulin", "du 8-Mai-1945", "de la Liberté", "des Tilleuls",
    "des Acacias", "du Moulin", "de la Paix", "Louis-Pasteur", "Marie-Curie", "George-Sand",
    "Lamartine", "Molière", "Berthelot", "Carnot", "Garibaldi", "Saint-Exupéry", "des Lilas",
    "du Stade", "de l'Église", "de la Mairie", "du Port", "des Vignes", "Colette", "Simone-Veil",
    "Rosa-Parks", "Ampère", "des Canuts",
)  # fmt: skip

_WORKS_FR = (
    ("Réfection de la chaussée", "Road resurfacing"),
    ("Remplacement d'une conduite d'eau", "Water main replacement"),
    ("Raccordement au réseau électrique", "Power grid connection"),
    ("Déploiement de la fibre", "Fibre roll-out"),
    ("Aménagement d'une piste cyclable", "New cycle lane"),
    ("Élagage des arbres", "Tree pruning"),
    ("Reprise des trottoirs", "Pavement repairs"),
    ("Travaux d'assainissement", "Sewer works"),
    ("Création d'un plateau traversant", "Raised crossing works"),
    ("Chantier de construction", "Building site"),
)
_EVENTS_FR = (
    ("Concert", "Concert"), ("Spectacle de marionnettes", "Puppet show"),
    ("Atelier numérique", "Digital workshop"), ("Marché de producteurs", "Farmers' market"),
    ("Tournoi de football", "Football tournament"), ("Conférence", "Talk"),
    ("Exposition de photographies", "Photo exhibition"), ("Bal populaire", "Street dance"),
    ("Lecture pour enfants", "Children's reading"), ("Vide-grenier", "Car-boot sale"),
    ("Course à pied", "Fun run"), ("Conseil de quartier", "Neighbourhood council"),
    ("Projection en plein air", "Open-air film"), ("Visite guidée", "Guided tour"),
)  # fmt: skip
_NEWS_FR = (
    ("Nouveaux horaires", "New opening hours"), ("Collecte des déchets", "Waste collection"),
    ("Inscriptions ouvertes", "Registration open"),
    ("Consultation publique", "Public consultation"),
    ("Alerte canicule", "Heatwave alert"), ("Coupure d'eau programmée", "Planned water cut"),
    ("Nouvelle ligne de bus", "New bus line"), ("Fermeture exceptionnelle", "Exceptional closure"),
    ("Plan de circulation", "Traffic plan"), ("Résultats de l'enquête", "Survey results"),
)  # fmt: skip
_SENTENCES_FR = (
    "Les services municipaux vous remercient de votre compréhension.",
    "La circulation sera maintenue dans les deux sens, avec un alternat aux heures de pointe.",
    "Le stationnement est interdit sur l'emprise du chantier pendant toute la durée des travaux.",
    "L'accès des riverains et des secours reste assuré en permanence.",
    "Une déviation est mise en place par les rues voisines ; suivez la signalisation.",
    "Les arrêts de bus concernés sont déplacés de quelques mètres.",
    "L'entrée est libre dans la limite des places disponibles.",
    "Le programme complet est disponible à l'accueil de la mairie et à la médiathèque.",
    "Les enfants de moins de huit ans doivent être accompagnés d'un adulte.",
    "Pensez à venir à pied, à vélo ou en transports en commun.",
    "Cette opération s'inscrit dans le plan pluriannuel d'entretien de la voirie.",
    "Les habitants du quartier ont été informés par un courrier distribué dans les boîtes.",
    "En cas de mauvais temps, la manifestation est reportée à une date ultérieure.",
    "Des agents seront présents sur place pour répondre à vos questions.",
    "Le conseil municipal a adopté cette mesure lors de sa dernière séance.",
    "Les travaux de nuit limitent la gêne pour les commerces et la circulation.",
)
_SENTENCES_EN = (
    "The city services thank you for your patience.",
    "Traffic is kept in both directions, with alternating lanes at rush hour.",
    "Parking is banned on the site for the whole duration of the works.",
    "Residents and emergency services keep access at all times.",
    "A detour through the neighbouring streets is signposted.",
    "Entry is free, subject to available seats.",
    "Children under eight must be accompanied by an adult.",
    "Please come on foot, by bike or by public transport.",
    "Staff will be on site to answer your questions.",
    "In case of bad weather the event is postponed.",
)


def street_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct street names (``rue Victor-Hugo``, ``quai du Port``…)."""
    names = [f"{kind} {name}" for name in _STREET_NAMES for kind in _STREET_KINDS]
    rng.shuffle(names)
    unique = list(dict.fromkeys(names))
    return unique[:count]


def _body(rng: random.Random, sentences: tuple[str, ...], lead: str) -> str:
    picked = rng.sample(sentences, k=min(len(sentences), rng.randint(3, 6)))
    return " ".join([lead, *picked])


def item_texts(
    rng: random.Random, type_code: str, *, place: str, district: str, english: bool
) -> dict[str, str | None]:
    """Translated title, summary and body of one item (English ones are ``None`` when absent)."""
    templates = {"works": _WORKS_FR, "events": _EVENTS_FR, "news": _NEWS_FR}[type_code]
    fr, en = rng.choice(templates)
    title_fr = f"{fr} — {place}"[:200]
    summary_fr = f"{fr} à {district} ({place}). " + rng.choice(_SENTENCES_FR)
    texts: dict[str, str | None] = {
        "title_fr": title_fr,
        "summary_fr": summary_fr[:500],
        "body_fr": _body(rng, _SENTENCES_FR, summary_fr),
        "title_en": None,
        "summary_en": None,
        "body_en": None,
    }
    if english:
        summary_en = f"{en} in {district} ({place}). " + rng.choice(_SENTENCES_EN)
        texts["title_en"] = f"{en} — {place}"[:200]
        texts["summary_en"] = summary_en[:500]
        texts["body_en"] = _body(rng, _SENTENCES_EN, summary_en)
    return texts


VENUE_KINDS = (
    "Médiathèque", "Salle des fêtes", "Gymnase", "Théâtre", "Parc", "Maison de quartier",
    "Stade", "Piscine", "Centre social", "Conservatoire", "Place", "Église", "Musée",
)  # fmt: skip
