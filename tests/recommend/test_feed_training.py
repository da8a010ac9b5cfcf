"""``train_recommender`` and the nightly task on a log in the database; serving and fallback."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from celery.schedules import crontab
from django.core.management import call_command

from apps.recommend.engine.context import (
    DISMISS,
    FEED,
    IMPRESSION,
    LIKE,
    OPEN,
    SAVE,
    SHARE,
)
from apps.recommend.engine.distance import haversine_m
from apps.recommend.engine.features import DAY_S
from apps.recommend.offline.fitting import InteractionLog
from apps.recommend.offline.training_job import recommender_train
from apps.recommend.store import ModelStore
from apps.residents.models import Device
from apps.residents.tokens import device_token_hash, device_token_new
from backend.celery import app
from tests.recommend.feed_support import URL, news
from tests.recommend.simdb import write_city
from tests.residents.factories import bearer_client

pytestmark = pytest.mark.django_db


def client_of(device: Device):
    token = device_token_new()
    Device.objects.filter(pk=device.pk).update(token_hash=device_token_hash(token))
    return bearer_client(token)


@pytest.fixture
def city_in_db(small_city):
    city, log = small_city
    return write_city(city, log)


def test_train_recommender_beats_stage1_and_the_feed_serves_it(city_in_db, model_dir):
    out = StringIO()
    call_command("train_recommender", "--no-boosting", stdout=out)

    store = ModelStore(model_dir)
    version = store.latest_version()
    assert version is not None
    report = out.getvalue()
    assert f"Outcome: saved (version {version})" in report
    assert "| stage 2 (logistic_regression) |" in report and "| stage1 |" in report
    metrics = store.metadata(version)["metrics"]
    assert metrics["model"]["ndcg@10"] > metrics["stage1"]["ndcg@10"]
    assert store.metadata(version)["data"]["residents"] > 100
    gate = store.metadata(version)["gate"]
    assert gate["passed"] is True and gate["reason"] == "served"
    assert [c["segment"] for c in gate["checks"]] == [
        "everyone",
        "no declared category",
        "one declared category",
        "several declared categories",
    ]
    assert "Serving gate: passed (served)" in report
    assert "| everyone | " in report

    client = client_of(city_in_db.devices[3])
    body = client.get(URL).json()
    assert body["personalized"] is True
    assert body["ranker"] == version
    assert body["results"] and all(isinstance(i["score"], float) for i in body["results"])


def test_the_feed_falls_back_to_stage1_when_the_model_file_is_corrupt_or_missing(
    city_in_db, model_dir
):
    result = recommender_train(try_boosting=False)
    assert result.version is not None
    client = client_of(city_in_db.devices[5])
    assert client.get(URL).json()["ranker"] == result.version

    path = ModelStore(model_dir).model_path(result.version)
    path.write_bytes(b"not a model" + path.read_bytes()[:100])
    (model_dir / "LATEST").write_text(result.version)  # touch LATEST: a new deployment reads it
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["ranker"] == "stage1" and response.json()["results"]

    path.unlink()
    (model_dir / "LATEST").write_text(result.version + "\n")
    response = client.get(URL)
    assert response.status_code == 200 and response.json()["ranker"] == "stage1"


def test_without_enough_data_nothing_is_saved_and_the_served_model_stays(model_dir):
    news(100)
    out = StringIO()
    call_command("train_recommender", stdout=out)
    assert "Outcome: not enough data" in out.getvalue()
    assert ModelStore(model_dir).latest_version() is None


def test_a_failed_training_keeps_the_previous_model(city_in_db, model_dir):
    first = recommender_train(try_boosting=False)
    assert first.version
    again = recommender_train(days=0)  # an empty window: not enough data
    assert again.version is None and again.reason.startswith("not enough data")
    assert ModelStore(model_dir).latest_version() == first.version


def _clicks_only_the_nearest_on_the_last_days(city, log, days: int) -> InteractionLog:
    """The log, with the positives of its last ``days`` replaced: each request opens exactly
    the impressed item nearest to one of the resident's places — nearest-first is perfect
    there, and no model scoring other features too can match it."""
    day = np.floor(log.at_s / DAY_S)
    late = day > day.max() - days
    positive = np.isin(log.action, (OPEN, SAVE, LIKE, SHARE, DISMISS))
    keep = ~(late & positive)
    c = city.catalog
    opens = []
    shown = np.flatnonzero(late & (log.action == IMPRESSION))
    for resident, request_day in {(int(log.resident[i]), day[i]) for i in shown}:
        rows = shown[(log.resident[shown] == resident) & (day[shown] == request_day)]
        items = log.item[rows]
        places = city.profiles[resident].places
        d = haversine_m(
            c.lon[items, None], c.lat[items, None],
            np.array([p.lon for p in places])[None, :], np.array([p.lat for p in places])[None, :],
        ).min(axis=1)  # fmt: skip
        if np.isfinite(d).any():
            best = int(np.nanargmin(np.where(np.isnan(d), np.inf, d)))
            opens.append((resident, int(items[best]), float(log.at_s[rows[best]]) + 1))
    extra = np.array(opens)
    return InteractionLog(
        resident=np.concatenate([log.resident[keep], extra[:, 0].astype(np.int64)]),
        item=np.concatenate([log.item[keep], extra[:, 1].astype(np.int64)]),
        action=np.concatenate([log.action[keep], np.full(len(extra), OPEN)]),
        context=np.concatenate([log.context[keep], np.full(len(extra), FEED)]),
        at_s=np.concatenate([log.at_s[keep], extra[:, 2]]),
    )


def test_a_model_refused_on_the_held_out_days_is_not_served_and_its_sidecar_says_why(
    small_city, model_dir
):
    city, log = small_city
    write_city(city, _clicks_only_the_nearest_on_the_last_days(city, log, days=2))
    out = StringIO()
    call_command("train_recommender", "--no-boosting", stdout=out)

    store = ModelStore(model_dir)
    assert store.latest_version() is None  # nothing served: stage 1 stays
    report = out.getvalue()
    assert "Outcome: not saved: " in report
    (sidecar,) = model_dir.glob("refused-*.json")
    refused = json.loads(sidecar.read_text())
    assert refused["refused"].startswith("not saved: ")
    assert refused["gate"]["passed"] is False
    everyone = refused["gate"]["checks"][0]
    assert everyone["segment"] == "everyone"
    assert everyone["nearest"] > 0.99  # places are stored on a ~100 m grid: a few ties differ
    assert everyone["model"] < everyone["nearest"]
    assert not list(model_dir.glob("model-*"))


def test_training_and_popularity_run_on_the_beat():
    schedule = app.conf.beat_schedule
    nightly = schedule["recommender-train"]
    assert nightly["task"] == "apps.recommend.tasks.recommender_train_nightly"
    assert isinstance(nightly["schedule"], crontab)
    assert nightly["schedule"].hour <= {1, 2, 3, 4, 5}
    popularity = schedule["item-popularity-refresh"]
    assert popularity["task"] == "apps.recommend.tasks.item_popularity_refresh_tick"
    assert popularity["schedule"] <= 900
