"""Fixtures of the fault-injection suite: real servers, broken on purpose (never mocks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.faultservers import BlackHole, RedisServer


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()
