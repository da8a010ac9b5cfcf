"""The public notice of how the feed ranks (issue 18, item 5; CRPA L311-3-1 on public
algorithms), generated from what runs so that it cannot drift from it.

``ranking_notice()`` reads the code's feature list (``FEATURE_NAMES``), the stage 1 weights,
the ranking rules (``RankConfig``) and the ranker the feed serves now (``serving_ranker``): for
a stored model, its coefficients (logistic regression, on standardised features) or its
importances (gradient boosting: the split gains of its trees, normalised to sum to 1), its
training date and the evaluation table stored with it (``metrics`` of the sidecar). The online
result is read from one optional place, ``online_result``: the ``online`` entry of the served
model's sidecar; without it the notice says that nothing was measured online yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.recommend.engine.features import FEATURE_NAMES, POPULARITY_REFERENCE, ROUTE_SCALE_M
from apps.recommend.engine.ranking import STAGE1_WEIGHTS, ModelRanker, RankConfig, Ranker
from apps.recommend.store import ModelStore

#: What each feature measures, for residents (msgids of the catalogues). A test checks that
#: every name of ``FEATURE_NAMES`` has one: a new feature cannot reach the feed undescribed.
FEATURE_DESCRIPTIONS: Mapping[str, Promise] = {
    "decay_place_300": _("Proximité (échelle 300 m) du plus proche de vos lieux enregistrés"),
    "decay_place_1000": _("Proximité (échelle 1 km) du plus proche de vos lieux enregistrés"),
    "decay_place_3000": _("Proximité (échelle 3 km) du plus proche de vos lieux enregistrés"),
    "decay_place_personal": _(
        "Proximité de vos lieux, à l'échelle des distances des contenus que vous avez ouverts"
    ),
    "inside_place": _("Le contenu est dans le rayon d'au moins un de vos lieux"),
    "decay_point_1000": _("Proximité (échelle 1 km) de la position envoyée par l'application"),
    "route_works": _(
        "Travaux proches du trajet en ligne droite entre deux de vos lieux, selon leur gravité"
    ),
    "city_wide": _("Le contenu concerne toute la ville"),
    "followed_category": _("Vous suivez la catégorie du contenu"),
    "followed_area": _("Vous suivez un quartier que le contenu touche"),
    "followed_organization": _("Vous suivez l'organisme qui l'a publié"),
    "category_affinity": _("Part de vos ouvertures et enregistrements dans cette catégorie"),
    "category_dismissal": _("Part de vos contenus écartés dans cette catégorie"),
    "category_ctr_lift": _("Vos ouvertures dans cette catégorie comparées à votre moyenne"),
    "type_affinity": _("Part de vos ouvertures pour ce type de contenu"),
    "text_similarity": _("Ressemblance du texte avec les contenus que vous avez ouverts"),
    "recency_1d": _("Fraîcheur de la publication (échelle d'un jour)"),
    "recency_7d": _("Fraîcheur de la publication (échelle d'une semaine)"),
    "event_starts_soon": _("Événement qui commence bientôt"),
    "event_ongoing": _("Événement en cours"),
    "works_active": _("Travaux en cours"),
    "works_upcoming": _("Travaux qui commencent dans la semaine"),
    "urgency_important": _("Contenu important"),
    "urgency_alert": _("Alerte"),
    "popularity": _("Popularité : ouvertures et enregistrements de tous sur 7 jours"),
    "type_news": _("Type : actualité"),
    "type_works": _("Type : travaux"),
    "type_events": _("Type : événement"),
}

#: Shown when no online result exists (the msgid the brief of issue 18 names).
NO_ONLINE_RESULT = _("pas encore de mesure en ligne")


@dataclass(frozen=True)
class FeatureLine:
    name: str
    description_fr: str
    description_en: str
    stage1_weight: float
    #: The served model's coefficient or importance; None when stage 1 serves.
    model_weight: float | None


@dataclass(frozen=True)
class RankingNotice:
    """What the notice says; ``as_json`` is the API's answer, the page renders the same."""

    #: ``stage1`` (hand weights) or ``stage2`` (a trained model).
    ranker: str
    #: Why stage 1 serves although a model was trained (the store's reason), else "".
    fallback_reason: str
    features: tuple[FeatureLine, ...]
    #: ``coefficients`` or ``importances`` (the meaning of ``model_weight``); "" for stage 1.
    model_weights_kind: str
    model: dict[str, Any] | None
    rules: dict[str, Any]
    online: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        return {
            "ranker": self.ranker,
            "fallback_reason": self.fallback_reason,
            "features": [
                {
                    "name": f.name,
                    "description": {"fr": f.description_fr, "en": f.description_en},
                    "stage1_weight": f.stage1_weight,
                    "model_weight": f.model_weight,
                }
                for f in self.features
            ],
            "model": None
            if self.model is None
            else {
                **self.model,
                "weights_kind": self.model_weights_kind,
            },
            "rules": self.rules,
            "online": self.online,
            "online_note": None if self.online is not None else _both(NO_ONLINE_RESULT),
        }


def _both(text: Promise | str) -> dict[str, str]:
    """``text`` in French and in English."""
    result = {}
    for language in ("fr", "en"):
        with translation.override(language):
            result[language] = str(text)
    return result


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else None


def model_weights(ranker: ModelRanker) -> tuple[str, list[float | None]]:
    """``("coefficients", …)`` of a linear model (per standardised feature), or
    ``("importances", …)``: each feature's share of the split gains of a boosted model's trees."""
    last = ranker.estimator[-1]
    if hasattr(last, "coef_"):
        return "coefficients", [_finite(v) for v in np.asarray(last.coef_).ravel()]
    gains = np.zeros(len(FEATURE_NAMES))
    for trees in getattr(last, "_predictors", ()):
        for tree in trees:
            nodes = tree.nodes[~tree.nodes["is_leaf"].astype(bool)]
            np.add.at(gains, nodes["feature_idx"], np.maximum(nodes["gain"], 0.0))
    total = gains.sum()
    if total <= 0:
        return "importances", [None] * len(FEATURE_NAMES)
    return "importances", [_finite(v) for v in gains / total]


def _evaluation(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored validation table, one row per ranker compared (stage 1, the candidates, the
    one kept as ``model``), in a stable order."""
    rows = []
    for name in sorted(metrics, key=lambda k: (k != "stage1", k == "model", k)):
        values = metrics[name] or {}
        rows.append(
            {
                "ranker": name,
                "auc": _finite(values.get("auc")),
                "ndcg_at_10": _finite(values.get("ndcg@10")),
                "rows": _finite(values.get("rows")),
                "positives": _finite(values.get("positives")),
            }
        )
    return rows


def online_result(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The online measure of the served model (an A/B or interleaving result), or None.

    The one place the notice reads it from: the ``online`` entry of the model's sidecar (a
    JSON object, e.g. ``{"method": "interleaving", "wins": …, "losses": …, "measured_at": …}``),
    which the online evaluation records; absent until something was measured.
    """
    value = (metadata or {}).get("online")
    return value if isinstance(value, dict) and value else None


def _rules() -> dict[str, Any]:
    config = RankConfig()
    return {
        "max_per_category": config.max_per_category,
        "window": config.window,
        "diversify_top": config.diversify_top,
        "duplicate_cosine": config.duplicate_cosine,
        "pin_alerts": config.pin_alerts,
        "alert_point_m": config.alert_point_m,
        "city_wide_alert_pin_h": config.city_wide_alert_pin_s / 3600,
        "route_scale_m": ROUTE_SCALE_M,
        "popularity_reference": POPULARITY_REFERENCE,
    }


def _feature_line(name: str, stage1: float, model: float | None) -> FeatureLine:
    text = _both(FEATURE_DESCRIPTIONS.get(name, name))
    return FeatureLine(name, text["fr"], text["en"], stage1, model)


@cache
def _store(directory: str) -> ModelStore:
    return ModelStore(Path(directory))


def serving_ranker() -> Ranker:
    """The ranker the feed serves now: the same store rules on the same directory as
    ``feed_service.serving_ranker`` (not imported: the feed's module imports the selectors that
    expose this notice), cached the same way until ``LATEST`` changes."""
    return _store(str(settings.RECOMMENDER_MODEL_DIR)).current()


def ranking_notice() -> RankingNotice:
    """The notice of the ranker the feed serves now (read from the model directory)."""
    ranker = serving_ranker()
    stage1 = [float(STAGE1_WEIGHTS.get(name, 0.0)) for name in FEATURE_NAMES]
    model: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    weights: list[float | None] = [None] * len(FEATURE_NAMES)
    weights_kind = ""
    if isinstance(ranker, ModelRanker):
        metadata = _store(str(settings.RECOMMENDER_MODEL_DIR)).metadata(ranker.version) or {}
        weights_kind, weights = model_weights(ranker)
        model = {
            "version": ranker.version,
            "kind": ranker.kind,
            "trained_at": metadata.get("trained_at"),
            "evaluation": _evaluation(metadata.get("metrics") or {}),
            "data": {k: v for k, v in (metadata.get("data") or {}).items() if _finite(v)},
        }
    return RankingNotice(
        ranker="stage2" if model is not None else "stage1",
        fallback_reason=getattr(ranker, "fallback_reason", ""),
        features=tuple(
            _feature_line(name, w1, w2)
            for name, w1, w2 in zip(FEATURE_NAMES, stage1, weights, strict=True)
        ),
        model_weights_kind=weights_kind,
        model=model,
        rules=_rules(),
        online=online_result(metadata),
    )
