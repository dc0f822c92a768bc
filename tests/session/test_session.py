"""CallSession on a VirtualClock with fakes for the other rooms' parts."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ivr.asr import FakeEngine
from ivr.clock import VirtualClock
from ivr.frames import ActionResult, DtmfDigit
from ivr.session import CallRecordStore, CallSession, SessionConfig, SessionMetrics
from ivr.transports.channel import PacedSink
from tests.session.session_fakes import (
    RATE,
    BalanceDialog,
    ClockedSource,
    EnergyEndpointer,
    FakeHandoff,
    NoDtmf,
    ToneRenderer,
    bank_backend,
    inline,
    silence,
    to_frames,
    tone,
)


class Recorder:
    """What the far end received, with the call time each frame left."""

    def __init__(self, clock):
        self.clock = clock
        self.frames: list[tuple[float, bytes]] = []

    def __call__(self, frame):
        self.frames.append((self.clock.now(), frame.pcm))

    def audio_seconds(self) -> float:
        return sum(len(p) for _, p in self.frames) / 2 / RATE


def make_session(clock, items, *, script=(), hold_open=False, handoff=None, backends=bank_backend, store=None,
                 dialog=None, renderer=None, config=None, metrics=None, call_id="c1", engine=None):
    rec = Recorder(clock)
    sink = PacedSink(rec, RATE, clock)
    s = CallSession(
        ClockedSource(clock, items, hold_open=hold_open), sink, engine or FakeEngine(list(script)),
        dialog or BalanceDialog(),
        renderer or ToneRenderer(), handoff, clock, store or CallRecordStore(),
        call_id=call_id, caller="0912345678", config=config, backends=backends, metrics=metrics,
        endpointer_factory=EnergyEndpointer, dtmf_factory=NoDtmf, offload=inline)
    return s, rec


async def run_call(clock, session, limit=600.0):
    task = asyncio.ensure_future(session.run())
    while not task.done() and clock.now() < limit:
        await clock.advance(0.01)
    assert task.done(), f"call still running at t={clock.now():.2f}"
    return task.result()


def caller_audio(segments) -> np.ndarray:
    return np.concatenate([tone(d, 200, 9000) if kind == "speech" else silence(d) for kind, d in segments])


async def test_balance_call_self_served():
    clock = VirtualClock()
    # greeting is 20 chars * 0.1 s = 2.0 s; the caller speaks after it, then keys 4 digits
    audio = caller_audio([("silence", 3.0), ("speech", 1.0), ("silence", 2.0)])
    items = to_frames(audio) + [DtmfDigit(d, 7.0 + i * 0.3) for i, d in enumerate("6789")]
    store = CallRecordStore()
    s, rec = make_session(clock, items, script=[("我要查餘額", 0.9)], hold_open=True, store=store)
    record = await run_call(clock, s)
    assert record.outcome == "self_served", record.events
    turns = record.of_kind("turn")
    assert next(t["text"] for t in turns) == "我要查餘額"
    assert turns[1]["dtmf"] == "6789"
    prompts = {p["key"]: p for p in record.prompts}
    assert set(prompts) == {"greeting", "ask_id", "balance", "bye"}
    assert prompts["balance"]["text"] == "您的餘額是12345元"
    assert all(not p["interrupted"] and abs(p["heard"] - p["duration"]) < 0.03 for p in record.prompts)
    assert record.actions[0]["name"] == "balance" and record.actions[0]["ok"]
    # stored incrementally and readable back
    again = store.get("c1")
    assert again.outcome == "self_served" and len(again.events) == len(record.events)
    assert again.caller == "********78"
    # the bot's audio left paced: 20 ms apart, the total = sum of prompt durations
    assert abs(rec.audio_seconds() - sum(p["duration"] for p in record.prompts)) < 0.1
    gaps = np.diff([t for t, _ in rec.frames[:50]])
    assert np.allclose(gaps, 0.02, atol=1e-6)


async def test_barge_in_stops_prompt_within_100ms():
    clock = VirtualClock()
    renderer = ToneRenderer({"greeting": 6.0})
    # caller starts talking 300 ms into the 6 s greeting
    audio = caller_audio([("silence", 0.3), ("speech", 1.2), ("silence", 3.0)])
    s, rec = make_session(clock, to_frames(audio), script=[("轉接專人", 0.9)], hold_open=True,
                          handoff=FakeHandoff(take_after=0), renderer=renderer)
    record = await run_call(clock, s)
    greeting = record.prompts[0]
    assert greeting["interrupted"]
    last_sent = max(t for t, _ in rec.frames if t < 1.0)
    assert 0.3 <= last_sent <= 0.3 + 0.1, last_sent
    assert 0.25 <= greeting["heard"] <= 0.4
    assert greeting["not_heard"] > 5.5
    # the interrupting speech was the caller's turn: recognised and acted on
    assert record.of_kind("recognized")[0]["barge_in"] is True
    assert record.outcome == "handed_off"


async def test_non_interruptible_prompt_plays_through_and_drops_speech():
    clock = VirtualClock()
    renderer = ToneRenderer({"greeting": 3.0})

    class NonInterruptible(BalanceDialog):
        def step(self, state, event):
            s, actions = super().step(state, event)
            from dataclasses import replace

            from ivr.frames import Say
            return s, [replace(a, interruptible=False) if isinstance(a, Say) and a.key == "greeting" else a
                       for a in actions]

    audio = caller_audio([("silence", 0.5), ("speech", 0.8), ("silence", 8.0)])
    s, _rec = make_session(clock, to_frames(audio), script=[("我要查餘額", 0.9)], hold_open=False,
                          dialog=NonInterruptible(), renderer=renderer)
    record = await run_call(clock, s)
    greeting = record.prompts[0]
    assert not greeting["interrupted"] and greeting["heard"] == pytest.approx(3.0, abs=0.03)
    assert not record.of_kind("recognized")  # speech over a non-interruptible prompt is not input
    assert record.of_kind("turn")[0]["no_input"]


async def test_no_input_twice_transfers_with_context_and_hold_announcements():
    clock = VirtualClock()
    handoff = FakeHandoff(take_after=45)
    s, _rec = make_session(clock, [], hold_open=True, handoff=handoff,
                          config=SessionConfig(hold_announce_every_s=20.0))
    record = await run_call(clock, s)
    assert record.outcome == "handed_off"
    assert [t.get("no_input") for t in record.turns] == [True, True]
    # timeouts run from the end of each prompt: 2.0 s greeting + 3 s, 0.5 s reprompt + 3 s
    nos = [t["t"] for t in record.turns]
    assert nos[0] == pytest.approx(5.0, abs=0.05) and nos[1] - nos[0] == pytest.approx(3.5, abs=0.06)
    bundle, queue, _ = handoff.enqueued[0]
    assert queue == "T1" and bundle.reason == "no_input" and bundle.call_id == "c1"
    assert [t.speaker for t in bundle.transcript][:1] == ["bot"]
    holds = [p for p in record.prompts if p["key"] == "hold.position"]
    assert len(holds) == 3 and "2 位" in holds[0]["text"] and "2 分鐘" in holds[0]["text"]
    assert record.of_kind("hold")[0]["result"] == "taken"


async def test_caller_hangup_midway_is_abandoned_and_recorded():
    clock = VirtualClock()
    store = CallRecordStore()
    audio = caller_audio([("silence", 1.0)])
    metrics = SessionMetrics()
    s, _ = make_session(clock, to_frames(audio), store=store, metrics=metrics)
    record = await run_call(clock, s)
    assert record.outcome == "abandoned" and record.end_reason == "hangup"
    assert record.prompts[0]["interrupted"] is False and record.prompts[0]["heard"] < 1.1
    assert store.counts() == {"abandoned": 1}
    assert metrics.registry.get_sample_value("ivr_calls_total", {"outcome": "abandoned"}) == 1.0
    assert metrics.registry.get_sample_value("ivr_calls_active") == 0.0


async def test_backend_timeout_feeds_failed_result_and_transfers():
    clock = VirtualClock()

    async def slow_backend(name, args):
        await clock.sleep(60)
        return ActionResult(name, True, {"balance": 1})

    audio = caller_audio([("silence", 3.0), ("speech", 1.0), ("silence", 1.0)])
    items = to_frames(audio) + [DtmfDigit(d, 6.0 + i * 0.2) for i, d in enumerate("1234")]
    handoff = FakeHandoff(take_after=0)
    s, _ = make_session(clock, items, script=[("查餘額", 0.9)], hold_open=True, handoff=handoff,
                        backends=slow_backend)
    record = await run_call(clock, s)
    act = record.actions[0]
    assert act["ok"] is False and "timed out" in act["error"] and act["seconds"] == pytest.approx(5.0, abs=0.05)
    assert handoff.enqueued[0][0].reason == "backend_error"


async def test_dialog_crash_hands_caller_to_agent():
    clock = VirtualClock()

    class Broken(BalanceDialog):
        def step(self, state, event):
            if state is not None:
                raise KeyError("boom")
            return super().step(state, event)

    audio = caller_audio([("silence", 3.0), ("speech", 1.0), ("silence", 2.0)])
    handoff = FakeHandoff()
    metrics = SessionMetrics()
    s, _ = make_session(clock, to_frames(audio), script=[("查餘額", 0.9)], hold_open=True, handoff=handoff,
                        dialog=Broken(), metrics=metrics)
    record = await run_call(clock, s)
    assert record.outcome == "handed_off" and record.end_reason == "error"
    assert handoff.enqueued[0][0].reason == "bot_error"
    assert metrics.registry.get_sample_value("ivr_errors_total", {"kind": "KeyError"}) == 1.0


async def test_max_call_length_from_clock():
    clock = VirtualClock()
    s, _ = make_session(clock, [], hold_open=True, config=SessionConfig(max_call_seconds=4.0))
    record = await run_call(clock, s)
    assert record.end_reason == "max_duration" and record.duration == pytest.approx(4.0, abs=0.06)


async def test_logs_are_json_with_call_id_and_no_personal_data():
    import io
    import json
    import logging

    from ivr.log import setup_logging

    root = logging.getLogger("ivr")
    saved = (root.handlers[:], root.level, root.propagate)
    stream = io.StringIO()
    setup_logging("info", json_logs=True, stream=stream)
    try:
        clock = VirtualClock()
        audio = caller_audio([("silence", 1.0)])
        # a PBX id with a long digit run stays whole
        s, _ = make_session(clock, to_frames(audio), call_id="c0ffee-1234567-89")
        await run_call(clock, s)
    finally:
        root.handlers[:], root.level, root.propagate = saved
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    started = next(x for x in lines if x["msg"] == "call started")
    assert started["call_id"] == "c0ffee-1234567-89" and started["caller"] == "********78"
    assert "0912345678" not in stream.getvalue()
    assert any(x["msg"] == "call ended" and x["outcome"] == "abandoned" for x in lines)


async def test_recognizer_failure_loses_the_turn_not_the_call():
    class Broken(FakeEngine):
        def recognizer(self, sample_rate=16000):
            rec = super().recognizer(sample_rate)

            def finish():
                raise RuntimeError("decoder exploded")
            rec.finish = finish
            return rec

    clock = VirtualClock()
    audio = caller_audio([("silence", 3.0), ("speech", 1.0), ("silence", 1.0)])
    metrics = SessionMetrics()
    s, _ = make_session(clock, to_frames(audio), hold_open=True, handoff=FakeHandoff(take_after=0),
                        engine=Broken(), metrics=metrics)
    record = await run_call(clock, s)
    assert record.of_kind("recognized")[0]["error"] == "decoder exploded"
    assert [t.get("no_input") for t in record.turns] == [True, True]  # asked again, then an agent
    assert record.outcome == "handed_off" and record.end_reason == "transferred"
    assert metrics.registry.get_sample_value("ivr_errors_total", {"kind": "recognizer"}) == 1.0


async def test_rejected_speech_is_a_no_match_at_once():
    """Speech the recognizer rejects (out of grammar: empty text) is answered
    at once as a no-match, not with silence until the no-input timer; a short
    click is still ignored."""
    clock = VirtualClock()
    audio = caller_audio([("silence", 3.0), ("speech", 0.2), ("silence", 1.0), ("speech", 1.2), ("silence", 6.0)])
    s, _ = make_session(clock, to_frames(audio), script=[("", 0.0), ("", 0.0)], hold_open=True,
                        handoff=FakeHandoff(take_after=0))
    record = await run_call(clock, s)
    rejected = record.of_kind("rejected")
    assert len(rejected) == 1 and rejected[0]["duration"] >= 1.0  # the 0.2 s burst did not count
    first = record.turns[0]
    assert not first.get("no_input") and first["text"] == "" and first["t"] < 6.5  # answered, not timed out
