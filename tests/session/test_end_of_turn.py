"""Ending the caller's turn early when the answer is already complete (issue 14),
and the per-turn latency breakdown, on a VirtualClock: no timed assertions, the
clock says exactly when each turn ended."""
from __future__ import annotations

from typing import Any

import pytest

from ivr.asr import FakeEngine
from ivr.clock import VirtualClock
from ivr.frames import CallEnded, CallStarted, DtmfDigit, Hangup, Listen, NoInput, Say, UserInput
from ivr.session import CallRecordStore, SessionConfig, SessionMetrics
from ivr.session.latency import STAGES
from tests.session.session_fakes import to_frames
from tests.session.test_session import caller_audio, make_session, run_call

GREETING_S = 2.0  # "greeting" renders 20 chars * 0.1 s


class MenuDialog:
    """One menu turn: the answer is complete when it names 餘額 (the real
    Dialog asks its NLU; ivr.dialog.end_of_turn). Replies, then hangs up."""

    def __init__(self, complete_ms: int = 250, end_silence_ms: int = 700) -> None:
        self.listen = Listen("intent", "intent", ("查餘額",), end_silence_ms=end_silence_ms, complete_ms=complete_ms)
        self.asked: list[str] = []
        self.inputs: list[UserInput] = []

    def answer_complete(self, state: Any, text: str) -> bool:
        assert state["at"] == "menu", "checked against the state that is waiting for the answer"
        self.asked.append(text)
        return "餘額" in text

    def step(self, state: dict | None, event: Any) -> tuple[dict, list]:
        s = dict(state or {"language": "zh-TW", "at": "start", "path": []})
        if isinstance(event, CallStarted):
            s["at"] = "menu"
            return s, [Say("greeting", "zh-TW", "您好歡迎致電示範銀行請說出您要辦理的業務"), self.listen]
        if isinstance(event, CallEnded):
            return s, []
        if isinstance(event, NoInput):
            return s, [Hangup("no_input")]
        self.inputs.append(event)
        s["at"] = "done"
        return s, [Say("reply", "zh-TW", "好的"), Hangup()]


def _call(segments, *, dialog: MenuDialog, script, partials=None, metrics=None, config=None):
    clock = VirtualClock()
    audio = caller_audio([("silence", GREETING_S + 0.5), *segments, ("silence", 2.0)])
    items = to_frames(audio)
    engine = FakeEngine(script, partial_script=partials)
    store = CallRecordStore()
    s, _ = make_session(clock, items, hold_open=True, dialog=dialog, engine=engine, store=store,
                          metrics=metrics, config=config)
    return clock, s, engine


def _speech_end(segments) -> float:
    return GREETING_S + 0.5 + sum(d for _, d in segments)


def _reply_start(record) -> float:
    return next(p["started"] for p in record.prompts if p["key"] == "reply")


async def test_complete_answer_ends_the_turn_after_the_short_pause():
    segs = [("speech", 1.0)]
    dialog = MenuDialog()
    clock, s, engine = _call(segs, dialog=dialog, script=[("我要查餘額", 0.9)])
    record = await run_call(clock, s)
    heard = record.of_kind("recognized")[0]
    assert heard["ended_by"] == "complete" and heard["text"] == "我要查餘額"
    # the partial the dialog found complete is the turn's final: no second decode
    assert engine.made[0].finished == [] and engine.made[0].turn == 1
    assert dialog.asked == ["我要查餘額"]
    # 250 ms after the last voiced frame, not the step's 700 ms
    assert _reply_start(record) - _speech_end(segs) == pytest.approx(0.26, abs=0.03)
    lat = record.of_kind("latency")[0]
    assert lat["ended"] == "complete" and lat["endpoint"] == pytest.approx(0.26, abs=0.03)


async def test_incomplete_partial_in_a_pause_does_not_cut_the_caller_off():
    # "我要 … 查餘額": a 450 ms pause after an incomplete half; the turn spans both halves
    segs = [("speech", 0.6), ("silence", 0.45), ("speech", 0.6)]
    dialog = MenuDialog()
    clock, s, _ = _call(segs, dialog=dialog, script=[("我要查餘額", 0.9)], partials={0: ["我要", "我要查餘額"]})
    record = await run_call(clock, s)
    turns = record.of_kind("recognized")
    assert len(turns) == 1, turns
    assert turns[0]["end"] - turns[0]["start"] == pytest.approx(1.65, abs=0.05)
    assert turns[0]["ended_by"] == "complete"
    assert dialog.asked == ["我要", "我要查餘額"]
    assert [i.text for i in dialog.inputs] == ["我要查餘額"]
    assert _reply_start(record) - _speech_end(segs) == pytest.approx(0.26, abs=0.03)


async def test_complete_answer_in_a_pause_shorter_than_complete_ms_waits_for_the_rest():
    # "查餘額 … 跟轉帳": complete after the first half, but the caller goes on within 200 ms
    segs = [("speech", 0.6), ("silence", 0.2), ("speech", 0.6)]
    dialog = MenuDialog()
    clock, s, _ = _call(segs, dialog=dialog, script=[("查餘額跟轉帳", 0.9)], partials={0: ["查餘額", "查餘額跟轉帳"]})
    record = await run_call(clock, s)
    turns = record.of_kind("recognized")
    assert len(turns) == 1 and turns[0]["end"] - turns[0]["start"] == pytest.approx(1.4, abs=0.05)


async def test_step_without_early_end_waits_its_full_silence():
    segs = [("speech", 1.0)]
    dialog = MenuDialog(complete_ms=0)
    clock, s, _ = _call(segs, dialog=dialog, script=[("我要查餘額", 0.9)])
    record = await run_call(clock, s)
    assert record.of_kind("recognized")[0]["ended_by"] == "silence"
    assert dialog.asked == []  # no partial asked for: a free-speech step keeps the long wait
    assert _reply_start(record) - _speech_end(segs) == pytest.approx(0.7, abs=0.03)


async def test_server_can_switch_the_early_end_off():
    segs = [("speech", 1.0)]
    dialog = MenuDialog()
    clock, s, _ = _call(segs, dialog=dialog, script=[("我要查餘額", 0.9)],
                        config=SessionConfig(early_end_of_turn=False))
    record = await run_call(clock, s)
    assert record.of_kind("recognized")[0]["ended_by"] == "silence" and dialog.asked == []


async def test_partial_that_never_completes_falls_back_to_the_silence():
    segs = [("speech", 1.0)]
    dialog = MenuDialog()
    clock, s, engine = _call(segs, dialog=dialog, script=[("我想問一下", 0.9)])
    record = await run_call(clock, s)
    heard = record.of_kind("recognized")[0]
    assert heard["ended_by"] == "silence" and heard["text"] == "我想問一下"
    assert dialog.asked == ["我想問一下"]  # asked once for this pause, not on every frame
    # the partial heard every voiced frame of the turn: it is the final, no second decode
    assert engine.made[0].finished == [] and engine.made[0].turn == 1
    assert _reply_start(record) - _speech_end(segs) == pytest.approx(0.7, abs=0.03)


async def test_latency_breakdown_in_record_and_metrics():
    segs = [("speech", 1.0)]
    metrics = SessionMetrics()
    clock, s, _ = _call(segs, dialog=MenuDialog(), script=[("我要查餘額", 0.9)], metrics=metrics)
    record = await run_call(clock, s)
    lat = record.of_kind("latency")
    assert len(lat) == 1
    stages = {k: lat[0][k] for k in STAGES}
    assert all(v >= 0 for v in stages.values())
    assert sum(stages.values()) == pytest.approx(lat[0]["total"], abs=0.002)
    text = metrics.render().decode()
    for stage in STAGES:
        assert f'ivr_turn_stage_seconds_count{{stage="{stage}"}} 1.0' in text
    assert 'ivr_turn_ends_total{ended="complete"} 1.0' in text
    assert "ivr_turn_latency_seconds_count 1.0" in text


async def test_keyed_turn_is_timed_from_its_last_key():
    clock = VirtualClock()
    dialog = MenuDialog()
    audio = caller_audio([("silence", 5.0)])
    frames = to_frames(audio)
    items = [f for f in frames if f.end <= 3.0] + [DtmfDigit("1", 3.0)] + [f for f in frames if f.end > 3.0]
    s, _ = make_session(clock, items, hold_open=True, dialog=dialog, engine=FakeEngine([]))
    record = await run_call(clock, s)
    lat = record.of_kind("latency")
    assert len(lat) == 1 and lat[0]["ended"] == "dtmf"
    assert _reply_start(record) == pytest.approx(3.0, abs=0.03)
