"""The public ranking notice (issue 18, item 5): generated from the code's features and the
served model, as JSON and a web page in French and English; it changes when the model does."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from django.test import Client

from apps.recommend.engine.features import FEATURE_NAMES
from apps.recommend.engine.ranking import STAGE1_WEIGHTS, ModelRanker
from apps.recommend.notice import FEATURE_DESCRIPTIONS, model_weights
from apps.recommend.offline.fitting import build_dataset, gradient_boosting_pipeline
from apps.recommend.store import SIGNATURE, ModelStore, metadata_signature

API = "/api/v1/transparency/ranking/"
PAGE = "/transparence/classement/"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def retrained(trained):
    """Another model: the same estimator with other coefficients, trained a day later."""
    estimator = copy.deepcopy(trained.estimator)
    estimator[-1].coef_ = estimator[-1].coef_ * 0.5 + 0.1
    return replace(trained, estimator=estimator, trained_at=trained.trained_at + timedelta(days=1))


def _notice() -> dict:
    answer = Client().get(API)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_every_feature_of_the_code_is_described():
    assert set(FEATURE_DESCRIPTIONS) == set(FEATURE_NAMES)


def test_without_a_model_the_notice_shows_the_stage1_weights(model_dir):
    notice = _notice()

    assert notice["ranker"] == "stage1"
    assert notice["model"] is None
    assert [f["name"] for f in notice["features"]] == list(FEATURE_NAMES)
    assert [f["stage1_weight"] for f in notice["features"]] == [
        STAGE1_WEIGHTS.get(name, 0.0) for name in FEATURE_NAMES
    ]
    assert {f["model_weight"] for f in notice["features"]} == {None}
    assert notice["features"][0]["description"]["fr"] == str(
        FEATURE_DESCRIPTIONS["decay_place_300"]
    )
    assert notice["online"] is None
    assert notice["online_note"]["fr"] == "pas encore de mesure en ligne"
    assert notice["rules"]["max_per_category"] == 4
    assert notice["rules"]["city_wide_alert_pin_h"] == 24


def test_the_notice_changes_when_the_model_changes(model_dir, trained, retrained):
    store = ModelStore(model_dir)
    first_version = store.save(trained)
    first = _notice()

    second_version = store.save(retrained)
    second = _notice()

    assert first["ranker"] == second["ranker"] == "stage2"
    assert first["model"]["version"] == first_version
    assert second["model"]["version"] == second_version != first_version
    assert first["model"]["trained_at"] == trained.trained_at.isoformat()
    assert second["model"]["trained_at"] == retrained.trained_at.isoformat()
    assert first["model"]["weights_kind"] == "coefficients"
    coefficients = [f["model_weight"] for f in second["features"]]
    assert coefficients == pytest.approx(list(retrained.estimator[-1].coef_.ravel()))
    assert coefficients != [f["model_weight"] for f in first["features"]]
    # the evaluation table is the one stored with the model
    rows = {row["ranker"]: row for row in second["model"]["evaluation"]}
    assert rows["stage1"]["ndcg_at_10"] == pytest.approx(trained.metrics["stage1"]["ndcg@10"])
    assert rows["model"]["auc"] == pytest.approx(trained.metrics["model"]["auc"])
    assert second["model"]["evaluation"][0]["ranker"] == "stage1"
    assert second["model"]["data"]["rows"] == trained.data["rows"]


def test_a_model_the_store_refuses_leaves_stage1_with_the_reason(model_dir, trained):
    worse = replace(
        trained,
        metrics={**trained.metrics, "model": {**trained.metrics["model"], "ndcg@10": 0.0}},
    )
    ModelStore(model_dir).save(worse)

    notice = _notice()

    assert notice["ranker"] == "stage1"
    assert notice["model"] is None
    assert "worse than stage 1" in notice["fallback_reason"]


def test_the_online_result_is_read_from_the_model_sidecar(model_dir, trained):
    store = ModelStore(model_dir)
    version = store.save(trained)
    path = store.metadata_path(version)
    data = json.loads(path.read_text())
    data["online"] = {"method": "interleaving", "wins": 120, "losses": 80}
    data[SIGNATURE] = metadata_signature(data)
    path.write_text(json.dumps(data))

    notice = _notice()

    assert notice["online"] == {"method": "interleaving", "wins": 120, "losses": 80}
    assert notice["online_note"] is None


def test_a_boosted_model_shows_importances_summing_to_one(small_city, trained):
    city, log = small_city
    ds = build_dataset(log, city.catalog, city.profiles, idf=trained.idf)
    estimator = gradient_boosting_pipeline(3).fit(ds.values, ds.label)
    ranker = ModelRanker(estimator, trained.feature_means, trained.idf, "v", "gradient_boosting")

    kind, shares = model_weights(ranker)
    weights = [w or 0.0 for w in shares]

    assert kind == "importances"
    assert len(weights) == len(FEATURE_NAMES) and None not in shares
    assert sum(weights) == pytest.approx(1.0)
    assert all(w >= 0 for w in weights)
    # the features the simulated residents react to carry weight
    assert (
        weights[FEATURE_NAMES.index("decay_place_1000")]
        + weights[FEATURE_NAMES.index("followed_category")]
        > 0
    )


def test_the_web_page_in_both_languages(model_dir, trained):
    ModelStore(model_dir).save(trained)

    french = Client().get(PAGE)
    english = Client().get(PAGE + "?lang=en")

    assert french.status_code == english.status_code == 200
    page = french.content.decode()
    assert '<html lang="fr">' in page
    assert "Comment le fil d'actualité est classé" in page
    assert "decay_place_300" in page and "logistic_regression" in page
    assert "pas encore de mesure en ligne" in page
    assert "toute la ville passe en tête pendant les 24 heures" in page
    assert '<html lang="en">' in english.content.decode()
    assert french["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("query", ["?lang=de", "?page=2"])
def test_bad_parameters_are_400(model_dir, query):
    assert Client().get(PAGE + query).status_code == 400
    assert Client().get(API + query).status_code == 400


def test_the_notice_is_in_the_openapi_schema():
    schema = Client().get("/api/v1/schema/?format=json").json()

    operation = schema["paths"][API]["get"]
    assert operation["operationId"] == "transparency_ranking"
    assert "RankingNotice" in schema["components"]["schemas"]


def test_the_notice_reads_no_database(model_dir, trained, django_assert_num_queries):
    ModelStore(model_dir).save(trained)
    with django_assert_num_queries(0):
        assert _notice()["ranker"] == "stage2"
    assert np.isfinite([f["stage1_weight"] for f in _notice()["features"]]).all()
