"""The session keeps nothing of a secret turn: a Listen whose flow step says
``secret: true`` gives '****' in the record's turn and recognized events, in
the agent transcript and the logs, and silence in the caller recording (the
spoken digits or in-band tones would give the PIN away). The rule is the
step's flag, never the slot's name."""
from __future__ import annotations

import io
import json
import logging
import wave

import numpy as np

from ivr.clock import VirtualClock
from ivr.frames import CallEnded, CallStarted, Listen, Say, Transfer, UserInput
from ivr.log import setup_logging
from ivr.session import CallRecordStore
from tests.session.session_fakes import FakeHandoff, to_frames
from tests.session.test_session import caller_audio, make_session, run_call


class PinDialog:
    """Menu (free text) -> a secret PIN step -> a step named 'pin_hint' that is NOT secret -> agent."""

    def step(self, state, event):
        s = dict(state or {"at": "start", "slots": {}, "turns": [], "language": "zh-TW", "path": []})
        if isinstance(event, CallStarted):
            s["at"] = "menu"
            return s, [Say("ask", "zh-TW", "請說"), Listen("menu", "free_text")]
        if isinstance(event, CallEnded):
            return s, []
        if s["at"] == "menu":
            s["at"] = "pin"
            return s, [Say("ask_pin", "zh-TW", "請輸入密碼"), Listen("code", "digits", secret=True, dtmf_max_digits=4)]
        if s["at"] == "pin":
            s["at"] = "hint"
            return s, [Say("ask_hint", "zh-TW", "請說提示"), Listen("pin_hint", "digits", dtmf_max_digits=4)]
        assert isinstance(event, UserInput)
        return s, [Say("bye", "zh-TW", "轉接"), Transfer("T1", reason="done")]


def _energy(samples: np.ndarray, rate: int, a: float, b: float) -> float:
    seg = samples[int(a * rate):int(b * rate)].astype(np.int32)
    return float(np.abs(seg).mean()) if len(seg) else 0.0


async def test_secret_turn_is_masked_everywhere_and_silent_in_the_recording(tmp_path):
    logs = io.StringIO()
    root = logging.getLogger("ivr")
    saved = (root.handlers[:], root.level, root.propagate)
    setup_logging("debug", json_logs=True, stream=logs)
    try:
        clock = VirtualClock()
        audio = caller_audio([("silence", 1.0), ("speech", 1.0), ("silence", 2.5), ("speech", 1.0),
                              ("silence", 2.5), ("speech", 1.0), ("silence", 3.0)])
        store = CallRecordStore(tmp_path / "calls.sqlite3", keep_audio=True)
        handoff = FakeHandoff(take_after=1)
        s, _ = make_session(clock, to_frames(audio), script=[("查餘額", 0.9), ("四三二一", 0.9), ("五六七八", 0.9)],
                            hold_open=True, store=store, dialog=PinDialog(), handoff=handoff)
        record = await run_call(clock, s)
    finally:
        root.handlers[:], root.level, root.propagate = saved
    turns = record.turns
    assert [(t["slot"], t["text"], t.get("secret")) for t in turns] == [
        ("menu", "查餘額", None), ("code", "****", True), ("pin_hint", "五六七八", None)]
    recognized = record.of_kind("recognized")
    assert [r["text"] for r in recognized] == ["查餘額", "****", "五六七八"]
    bundle = handoff.enqueued[0][0]
    assert [t.text for t in bundle.transcript if t.speaker == "caller"] == ["查餘額", "****", "五六七八"]
    everything = json.dumps(CallRecordStore(tmp_path / "calls.sqlite3").get(record.call_id).to_dict(),
                            ensure_ascii=False) + logs.getvalue() + json.dumps(bundle.to_dict(), ensure_ascii=False)
    assert "四三二一" not in everything and "五六七八" in everything
    # the caller's recording: the menu and the hint are there, the PIN is silence
    with wave.open(record.caller_audio, "rb") as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert _energy(samples, rate, 1.1, 1.9) > 1000
    assert _energy(samples, rate, 4.6, 5.4) == 0.0
    assert _energy(samples, rate, 8.1, 8.9) > 1000

