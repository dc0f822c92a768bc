"""Handoff fixtures: a real redis-server per session (free loopback port, temp
dir), and a ``store_url`` parametrized over SQLite and Redis so the same tests
run against both backends."""
from __future__ import annotations

import uuid

import pytest

from ivr.handoff import HandoffService, open_store
from tests.redis_server import start_redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    # AOF everysec keeps the suite fast; the tests kill workers, not Redis,
    # so the server still holds every write (bench/handoff_queue.py measures "always").
    server = start_redis(tmp_path_factory.mktemp("redis"), aof=True)
    yield server.url
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    base = request.getfixturevalue("redis_url")
    return base


@pytest.fixture
def store(store_url):
    # A fresh key prefix per test keeps Redis tests independent without FLUSHDB.
    kw = {"prefix": f"t{uuid.uuid4().hex[:8]}:"} if store_url.startswith("redis") else {}
    s = open_store(store_url, **kw)
    yield s
    if store_url.startswith("redis"):
        s.clear()
    s.close()


class FakeTime:
    """Wall time the tests move by hand (the service takes ``now``)."""

    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def service(store, clock) -> HandoffService:
    return HandoffService(store, now=clock)
