"""A handoff store that is down or hung never leaves a caller in silence:
busy prompt and hold tone while it is retried, then the fallback prompt;
one log line per outage. Unit tests on a VirtualClock, then a real
redis-server stopped with SIGSTOP and killed mid-call."""
from __future__ import annotations

import asyncio
import os
import signal
import uuid

import numpy as np
import pytest

from ivr.clock import RealClock, VirtualClock
from ivr.frames import DtmfDigit
from ivr.session import SessionConfig, SessionMetrics
from ivr.session.outage import BUSY_KEY, FALLBACK_KEY, StoreHealth, fallback_text
from tests.session.session_fakes import FakeHandoff
from tests.session.test_session import make_session, run_call

CONFIG = SessionConfig(store_retry_s=10.0, store_retry_every_s=2.0, emergency_number="0800-000-123",
                       hold_poll_s=1.0)


class FlakyHandoff(FakeHandoff):
    """Raises what redis-py raises while ``down(now)`` says the store is down."""

    def __init__(self, clock, down, **kw) -> None:
        super().__init__(**kw)
        self.clock, self.down, self.calls = clock, down, 0

    def _check(self) -> None:
        import redis

        self.calls += 1
        if self.down(self.clock.now()):
            raise redis.ConnectionError("Error 111 connecting to redis://:hunter2@10.0.0.9:6379. Connection refused.")

    async def enqueue(self, bundle, queue, priority=0):
        self._check()
        return await super().enqueue(bundle, queue, priority)

    async def status(self, ticket):
        self._check()
        return await super().status(ticket)


def agent_call(clock):
    return [DtmfDigit("2", 0.5)]  # "2" at the menu: the caller asks for an agent


def bot_gaps(rec, after: float) -> float:
    """Longest stretch without bot audio after ``after`` (call seconds)."""
    times = sorted(t for t, _ in rec.frames if t >= after)
    return max(np.diff(times), default=0.0)


async def test_store_down_at_transfer_busy_then_fallback_never_silence(log_stream):
    clock = VirtualClock()
    handoff = FlakyHandoff(clock, lambda t: True)
    metrics = SessionMetrics()
    s, rec = make_session(clock, agent_call(clock), hold_open=True, handoff=handoff, config=CONFIG, metrics=metrics)
    record = await run_call(clock, s)
    keys = [p["key"] for p in record.prompts]
    assert keys[-3:] == ["to_agent", BUSY_KEY, FALLBACK_KEY], keys
    fallback = record.prompts[-1]
    assert "0800-000-123" in fallback["text"] and fallback["text"] == fallback_text("0800-000-123")
    assert record.outcome == "failed" and record.end_reason == "store_outage"
    to_agent = record.prompts[-3]["started"]
    assert bot_gaps(rec, to_agent) <= 0.6  # prompt, busy prompt, tone, fallback: never a dead line
    assert handoff.calls >= 4   # retried, bounded by store_retry_s
    assert fallback["started"] - to_agent <= CONFIG.store_retry_s + 3
    assert metrics.stores.snapshot()["handoff"]["ok"] is False
    assert metrics.registry.get_sample_value("ivr_store_up", {"store": "handoff"}) == 0
    text = log_stream.getvalue()
    assert text.count("store unavailable") == 1 and "Traceback" not in text and "hunter2" not in text


async def test_store_back_within_the_window_call_goes_on_to_the_queue(log_stream):
    clock = VirtualClock()
    handoff = FlakyHandoff(clock, lambda t: t < 9.0, take_after=2)  # back a few seconds after the transfer
    metrics = SessionMetrics()
    s, _rec = make_session(clock, agent_call(clock), hold_open=True, handoff=handoff, config=CONFIG, metrics=metrics)
    record = await run_call(clock, s)
    keys = [p["key"] for p in record.prompts]
    assert BUSY_KEY in keys and FALLBACK_KEY not in keys
    assert record.outcome == "handed_off" and record.of_kind("hold")[0]["result"] == "taken"
    assert len(handoff.enqueued) == 1
    assert metrics.stores.snapshot() == {"handoff": {"ok": True}}
    text = log_stream.getvalue()
    assert text.count("store unavailable") == 1 and text.count("store back after") == 1


async def test_store_lost_during_hold_caller_hears_tone_then_fallback(log_stream):
    clock = VirtualClock()
    handoff = FlakyHandoff(clock, lambda t: t > 12.0)  # fine at the transfer, gone while on hold
    s, rec = make_session(clock, agent_call(clock), hold_open=True, handoff=handoff, config=CONFIG)
    record = await run_call(clock, s)
    keys = [p["key"] for p in record.prompts]
    assert keys[-2:] == [BUSY_KEY, FALLBACK_KEY] and "hold.position" in keys
    assert record.end_reason == "store_outage" and len(handoff.enqueued) == 1
    busy = record.prompts[-2]["started"]
    assert bot_gaps(rec, busy) <= 0.6


def test_store_health_logs_once_per_outage_with_a_count(log_stream):
    now = [0.0]
    h = StoreHealth(clock=lambda: now[0])
    for _ in range(500):
        h.failed("handoff", ConnectionError("refused"))
        now[0] += 0.02
    assert h.snapshot()["handoff"]["errors"] == 500
    h.ok("handoff")
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 2 and "unavailable" in lines[0] and "500 failed operations" in lines[1]


# -- a real redis-server, stopped and killed mid-call --------------------------
@pytest.fixture
def private_redis(tmp_path):
    yield from redis_process(tmp_path)


def redis_process(tmp_path):
    """A redis-server of this test's own (it gets stopped and killed), then its cleanup."""
    from tests.redis_server import start_redis

    server = start_redis(tmp_path)
    proc = server.proc
    yield proc, server.url
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(5)


async def _real_call(url, *, config, during=None):
    from ivr.handoff import HandoffService, open_store

    store = open_store(url, prefix=f"o{uuid.uuid4().hex[:6]}:", timeout=0.5)
    svc = HandoffService(store)
    clock = RealClock()
    metrics = SessionMetrics()
    t0 = clock.now()
    s, rec = make_session(clock, [DtmfDigit("2", t0 + 0.3)], hold_open=True, handoff=svc, config=config,
                          metrics=metrics, call_id=f"real-{uuid.uuid4().hex[:6]}")
    task = asyncio.ensure_future(s.run())
    if during is not None:
        await during(s, svc)
    record = await asyncio.wait_for(task, 60)
    return record, rec, metrics, svc, store


async def test_hung_redis_sigstop_at_transfer_gets_busy_prompt_and_fallback(private_redis, log_stream):
    proc, url = private_redis
    config = SessionConfig(store_retry_s=3.0, store_retry_every_s=1.0, max_hold_s=30)

    async def stop_before_transfer(session, svc):
        os.kill(proc.pid, signal.SIGSTOP)   # hung, not refused: the socket just never answers

    try:
        record, rec, metrics, _, store = await _real_call(url, config=config, during=stop_before_transfer)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    keys = [p["key"] for p in record.prompts]
    assert keys[-3:] == ["to_agent", BUSY_KEY, FALLBACK_KEY], keys
    assert record.end_reason == "store_outage"
    assert metrics.stores.snapshot()["handoff"]["ok"] is False
    assert sum(len(p) for _, p in rec.frames) / 2 / 8000 > 3.0  # the caller heard prompts and tone throughout
    assert log_stream.getvalue().count("store unavailable") == 1 and "Traceback" not in log_stream.getvalue()
    store.close()


async def test_redis_paused_on_hold_then_back_the_caller_stays_queued(private_redis, log_stream):
    proc, url = private_redis
    config = SessionConfig(store_retry_s=20.0, store_retry_every_s=1.0, max_hold_s=12, hold_poll_s=0.5)

    async def pause_during_hold(session, svc):
        for _ in range(200):
            if session.queue is not None and session.queue.ticket is not None:
                break
            await asyncio.sleep(0.05)
        os.kill(proc.pid, signal.SIGSTOP)
        await asyncio.sleep(3.0)
        os.kill(proc.pid, signal.SIGCONT)

    record, _rec, metrics, _svc, store = await _real_call(url, config=config, during=pause_during_hold)
    keys = [p["key"] for p in record.prompts]
    assert BUSY_KEY in keys and FALLBACK_KEY not in keys, keys
    assert record.outcome == "handed_off" and record.of_kind("hold")[0]["result"] == "max_hold"
    assert metrics.stores.snapshot()["handoff"] == {"ok": True}
    text = log_stream.getvalue()
    assert text.count("store unavailable") == 1 and text.count("store back after") == 1
    store.clear()
    store.close()


async def test_redis_killed_before_transfer_fallback_not_silence(private_redis, log_stream):
    proc, url = private_redis
    config = SessionConfig(store_retry_s=2.0, store_retry_every_s=0.5)

    async def kill(session, svc):
        proc.kill()
        proc.wait(5)

    record, _rec, _metrics, _, store = await _real_call(url, config=config, during=kill)
    keys = [p["key"] for p in record.prompts]
    assert keys[-2:] == [BUSY_KEY, FALLBACK_KEY] and record.end_reason == "store_outage"
    assert "Traceback" not in log_stream.getvalue()
    store.close()
