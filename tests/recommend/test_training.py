"""Training stage 2 from a logged feed: point-in-time rows, time split, beating stage 1."""

from __future__ import annotations

import numpy as np
import pytest

from apps.recommend.engine.candidates import CandidateRecord, Candidates
from apps.recommend.engine.context import DISMISS, FEED, IMPRESSION, OPEN, SAVE
from apps.recommend.engine.features import FEATURE_INDEX, FEATURE_NAMES
from apps.recommend.engine.ranking import ModelRanker, Stage1Ranker
from apps.recommend.engine.text_vectors import Idf, encode_texts
from apps.recommend.offline.fitting import (
    BOOSTING_MIN_POSITIVES,
    MIN_POSITIVES,
    MIN_VALIDATION_POSITIVES,
    InteractionLog,
    NotEnoughDataError,
    Popularity,
    build_dataset,
    fit,
    gradient_boosting_pipeline,
    logistic_regression_pipeline,
)
from tests.recommend.builders import CULTURE, DAY_S, MOBILITY, NOW_S, profile, record


def test_training_on_a_small_simulated_log_beats_stage1_on_validation(trained):
    model, stage1 = trained.metrics["model"], trained.metrics["stage1"]
    assert model["ndcg@10"] > stage1["ndcg@10"]
    assert model["auc"] > stage1["auc"]
    assert trained.beats_stage1
    assert trained.kind in {"logistic_regression", "gradient_boosting"}
    assert trained.metrics["logistic_regression"]["rows"] == model["rows"] > 0
    assert trained.data["validation_days"] >= 1
    assert trained.data["days"] > trained.data["validation_days"]
    assert trained.feature_names == FEATURE_NAMES


def test_trained_ranker_scores_like_its_estimator(trained):
    ranker = trained.ranker("test")
    assert isinstance(ranker, ModelRanker)
    values = np.random.default_rng(0).random((50, len(FEATURE_NAMES)))
    np.testing.assert_allclose(ranker.score(values), trained.estimator.decision_function(values))


def _synthetic(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = rng.random((600, len(FEATURE_NAMES)))
    logit = 3 * values[:, FEATURE_INDEX["followed_category"]] - 2 * values[:, 0] - 0.5
    return values, (rng.random(600) < 1 / (1 + np.exp(-logit))).astype(int)


def test_linear_contributions_split_the_score_exactly():
    values, labels = _synthetic()
    estimator = logistic_regression_pipeline(0).fit(values, labels)
    ranker = ModelRanker(estimator, values.mean(axis=0), None, "v", "logistic_regression")
    contributions = ranker.contributions(values[:20])
    gap = ranker.score(values[:20]) - contributions.sum(axis=1)
    np.testing.assert_allclose(gap, gap[0], atol=1e-9)  # the intercept, for every row
    top = np.argmax(np.abs(contributions).sum(axis=0))
    assert FEATURE_NAMES[top] == "followed_category"


def test_boosting_contributions_are_ablations_to_the_training_mean():
    values, labels = _synthetic(1)
    estimator = gradient_boosting_pipeline(0).fit(values, labels)
    means = values.mean(axis=0)
    ranker = ModelRanker(estimator, means, None, "v", "gradient_boosting")
    rows = values[:5].copy()
    rows[:, 3] = means[3]
    contributions = ranker.contributions(rows)
    assert np.all(contributions[:, 3] == 0)  # a feature at its mean explains nothing
    ablated = rows.copy()
    ablated[:, 0] = means[0]
    np.testing.assert_allclose(contributions[:, 0], ranker.score(rows) - ranker.score(ablated))


def _tiny_catalog() -> Candidates:
    return Candidates.from_records(
        [
            record(1, category_id=CULTURE, text="concert jazz"),
            record(2, category_id=MOBILITY, text="travaux voirie"),
            record(3, category_id=CULTURE, text="exposition peinture"),
        ]
    )


def _log(rows) -> InteractionLog:
    """rows: (resident, item row, action, at)."""
    return InteractionLog(
        resident=np.array([r[0] for r in rows]),
        item=np.array([r[1] for r in rows]),
        action=np.array([r[2] for r in rows]),
        context=np.full(len(rows), FEED),
        at_s=np.array([r[3] for r in rows], dtype=np.float64),
    )


def test_build_dataset_uses_only_the_past_for_each_request():
    day0, day1 = NOW_S, NOW_S + DAY_S
    log = _log(
        [
            (0, 0, IMPRESSION, day0),
            (0, 1, IMPRESSION, day0 + 1),
            (0, 0, OPEN, day0 + 5),
            (0, 1, DISMISS, day0 + 6),
            (0, 2, IMPRESSION, day1),
            (0, 1, IMPRESSION, day1 + 1),
            (0, 2, SAVE, day1 + 9),
            (1, 2, OPEN, day0 + 60),  # someone else likes item 2 the first day
        ]
    )
    ds = build_dataset(log, _tiny_catalog(), [profile(), profile()], idf=None)
    assert ds.group.tolist() == [0, 0, 1, 1]
    assert ds.label.tolist() == [1, 0, 0, 1]  # day 1 rows: item 1 (row 1), item 2 (row 2)
    assert ds.gain.tolist() == [1, 0, 0, 2]
    assert ds.weight.tolist() == [1, 2, 1, 2]  # dismissal and save weigh double
    affinity = ds.values[:, FEATURE_INDEX["category_affinity"]]
    # Day 0 knows nothing yet; on day 1 the day-0 open of a culture item counts.
    assert affinity[:2].tolist() == [0, 0]
    assert affinity[3] > 0 and affinity[2] == 0
    popularity = ds.values[:, FEATURE_INDEX["popularity"]]
    assert popularity[:2].tolist() == [0, 0]
    assert popularity[3] > 0  # item 2 was opened by resident 1 before day 1


def test_popularity_counts_positives_in_the_trailing_window_only():
    log = _log(
        [
            (0, 0, OPEN, NOW_S - 8 * DAY_S),
            (1, 0, OPEN, NOW_S - DAY_S),
            (2, 0, IMPRESSION, NOW_S - 10),
        ]
    )
    popularity = Popularity(log, 7 * DAY_S)
    assert popularity.at(np.array([0, 1]), NOW_S).tolist() == [1, 0]


def test_fit_refuses_a_log_too_small_to_validate():
    log = _log([(0, 0, IMPRESSION, NOW_S), (0, 0, OPEN, NOW_S + 1)])
    with pytest.raises(NotEnoughDataError):
        fit(log, _tiny_catalog(), [profile()])


def test_fit_refuses_a_young_city_below_the_minimum_and_says_why(small_city):
    city, log = small_city
    first_days = np.flatnonzero(log.at_s < log.at_s.min() + 2 * DAY_S)
    with pytest.raises(NotEnoughDataError) as refused:
        fit(log.take(first_days), city.catalog, city.profiles)
    message = str(refused.value)
    assert message.startswith("too few positives to train and validate: ")
    assert f"(need {MIN_POSITIVES})" in message
    assert f"(need {MIN_VALIDATION_POSITIVES})" in message


def test_boosting_is_not_tried_on_a_young_citys_log(trained):
    assert trained.data["positives"] < BOOSTING_MIN_POSITIVES
    assert "gradient_boosting" not in trained.metrics
    assert trained.kind == "logistic_regression"


def test_idf_weighs_rare_terms_more():
    texts = Candidates.from_records(
        [
            CandidateRecord("news", i, 1, 1, None, None, NOW_S, text=t)
            for i, t in enumerate(["concert jazz parc", "concert rock parc", "travaux parc"])
        ]
    ).text
    idf = Idf.fit(texts)
    assert idf.n_documents == 3
    weights = dict(zip(idf.indices.tolist(), idf.values.tolist(), strict=True))
    parc = encode_texts(["parc"]).indices[0]
    jazz = encode_texts(["jazz"]).indices[0]
    assert weights[parc] < weights[jazz] < idf.default
    assert Stage1Ranker().idf is None


def test_interaction_log_from_stored_columns_indexes_items_and_residents():
    catalog = _tiny_catalog()  # news 1, 2, 3
    log, residents = InteractionLog.from_columns(
        resident=[42, 7, 42, 7],
        item_type=["news", "news", "events", "news"],
        item_id=[3, 1, 1, 2],  # events 1 is not in the catalog
        action=["impression", "open", "save", "dismiss"],
        context=["feed", "push", "feed", "feed"],
        at_s=[NOW_S, NOW_S + 1, NOW_S + 2, NOW_S + 3],
        catalog=catalog,
    )
    assert residents.tolist() == [7, 42]
    assert log.resident.tolist() == [1, 0, 0]
    assert catalog.item_id[log.item].tolist() == [3, 1, 2]
    assert log.action.tolist() == [IMPRESSION, OPEN, DISMISS]
    assert log.context.tolist() == [FEED, 1, FEED]
    assert log.at_s.tolist() == [NOW_S, NOW_S + 1, NOW_S + 3]
