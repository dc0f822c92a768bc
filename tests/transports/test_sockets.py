"""AudioSocket and media-stream servers over real loopback sockets, with the
speech and dialog parts faked (the real ones: test_end_to_end.py)."""
from __future__ import annotations

import asyncio
import urllib.request

import pytest

from ivr.session import CallRecordStore
from ivr.transports import audiosocket_call, websocket_call
from tests.session.session_fakes import tone
from tests.transports.servers import SHORT_PROMPTS, ServerThread, fake_services

SPEECH = tone(0.6, 200, 9000)
BALANCE_SCRIPT = [("silence", 0.9), ("audio", SPEECH), ("wait_reply", 3.0), ("dtmf", "6789")]


@pytest.fixture(scope="module")
def server():
    store = CallRecordStore()
    srv = ServerThread(fake_services(store))
    yield srv
    srv.stop()


def check_balance_call(server, result):
    assert result.hung_up_by_bot
    record = server.services.records.get(result.call_id)
    assert record.outcome == "self_served", record.events
    assert [p["key"] for p in record.prompts] == ["greeting", "ask_id", "balance", "bye"]
    assert record.turns[0]["text"] == "我要查餘額" and record.turns[1]["dtmf"] == "6789"
    # what came back down the line is those four prompts, paced in real time
    expected = sum(SHORT_PROMPTS[k] for k in ("greeting", "ask_id", "balance", "bye"))
    assert len(result.audio()) / 8000 == pytest.approx(expected, abs=0.1)
    replies = result.replies()
    assert len(replies) == 3  # greeting | ask_id | balance+bye
    assert replies[0][1] - replies[0][0] == pytest.approx(0.6, abs=0.1)


def test_audiosocket_balance_call(server):
    host, port = server.listening.audiosocket
    result = server.call(audiosocket_call(host, port, BALANCE_SCRIPT))
    check_balance_call(server, result)


def test_websocket_balance_call(server):
    host, port = server.listening.websocket
    result = server.call(websocket_call(f"ws://{host}:{port}/", BALANCE_SCRIPT, caller="0912345678"))
    check_balance_call(server, result)
    assert len(result.marks) == 4  # one mark per prompt, echoed back as played
    record = server.services.records.get(result.call_id)
    assert record.transport == "websocket" and record.caller.endswith("78") and "091234" not in record.caller


def test_websocket_barge_in_sends_clear(server):
    host, port = server.listening.websocket
    long_greeting = {**SHORT_PROMPTS, "greeting": 4.0}
    server.services.prompts.durations = long_greeting
    try:
        script = [("silence", 0.5), ("audio", SPEECH), ("wait_reply", 3.0), ("dtmf", "1234")]
        result = server.call(websocket_call(f"ws://{host}:{port}/", script))
    finally:
        server.services.prompts.durations = SHORT_PROMPTS
    assert result.clears == 1
    record = server.services.records.get(result.call_id)
    greeting = record.prompts[0]
    assert greeting["interrupted"] and greeting["heard"] < 1.2 and greeting["not_heard"] > 2.8, record.events
    first = result.replies()[0]
    assert first[1] - first[0] < 1.3  # the line went quiet right after the caller spoke up


def test_concurrent_calls_and_metrics(server):
    host, port = server.listening.audiosocket

    async def many():
        return await asyncio.gather(*(audiosocket_call(host, port, BALANCE_SCRIPT) for _ in range(6)))

    for r in server.call(many()):
        check_balance_call(server, r)
    mh, mp = server.listening.metrics
    body = urllib.request.urlopen(f"http://{mh}:{mp}/metrics", timeout=5).read().decode()
    assert 'ivr_calls_total{outcome="self_served"}' in body
    assert "ivr_turn_latency_seconds_bucket" in body and "ivr_calls_active 0.0" in body
    health = urllib.request.urlopen(f"http://{mh}:{mp}/healthz", timeout=5).read()
    assert b'"ok"' in health


def test_caller_hangup_on_hold_leaves_queue():
    srv = ServerThread(fake_services(handoff=None))
    handoff = srv.services.handoff
    handoff.take_after = None  # nobody answers
    try:
        host, port = srv.listening.audiosocket
        # silence through two no-input timeouts (3 s each) -> transfer -> hold -> hang up
        result = srv.call(audiosocket_call(host, port, [("silence", 8.5), ("hangup",)]))
        record = srv.services.records.get(result.call_id)
        assert record.outcome == "handed_off"
        assert [e["result"] for e in record.of_kind("hold")] == ["caller_hung_up"]
        assert handoff.cancelled == [("t1", "caller_hangup")]
        assert handoff.outcomes == [("transferred", result.call_id)]
    finally:
        srv.stop()


def test_shutdown_hands_off_calls_in_flight():
    srv = ServerThread(fake_services())
    srv.server.drain_seconds = 0.5
    host, port = srv.listening.audiosocket
    fut = srv.submit(audiosocket_call(host, port, [("silence", 30.0)]))
    import time
    time.sleep(1.0)
    srv.call(srv.server.shutdown())
    result = fut.result(10)
    assert result.hung_up_by_bot
    record = srv.services.records.get(result.call_id)
    assert record.outcome == "handed_off" and record.end_reason == "shutdown"
    assert srv.services.handoff.enqueued[0][0].reason == "shutdown"
    srv.loop.call_soon_threadsafe(srv.loop.stop)
