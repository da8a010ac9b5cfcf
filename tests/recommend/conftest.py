"""A small simulated city and the stage 2 model trained on its log, shared by the tests."""

from __future__ import annotations

import re

import pytest
import redis.connection

from apps.recommend.offline.fitting import InteractionLog, TrainedModel, fit
from apps.recommend.offline.simulation import City, SimConfig, generate_city, simulate_log


@pytest.fixture(scope="session")
def small_city() -> tuple[City, InteractionLog]:
    city = generate_city(SimConfig(residents=160, days=10, seed=11))
    return city, simulate_log(city)


@pytest.fixture(scope="session")
def trained(small_city) -> TrainedModel:
    city, log = small_city
    return fit(log, city.catalog, city.profiles, seed=11)


@pytest.fixture
def model_dir(settings, tmp_path):
    """An empty model directory: the feed serves stage 1 until a test saves a model."""
    settings.RECOMMENDER_MODEL_DIR = str(tmp_path / "models")
    return tmp_path / "models"


@pytest.fixture
def round_trips(monkeypatch):
    """The commands sent to Redis, one list per round trip (a pipeline's are one)."""
    sent: list[list[str]] = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        packed = command if isinstance(command, bytes | str) else b"".join(command)
        sent.append(re.findall(r"\*\d+\r\n\$\d+\r\n([A-Z]+)\r\n", bytes(packed).decode("latin-1")))
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sent
