"""A number step asks the recognizer for its n-best; the next-best transcripts
reach the dialog (UserInput.alternatives) and nothing else: at a secret step
(a PIN) they are never in the record, the logs or the handoff bundle, and at
any step the record only counts them."""
from __future__ import annotations

import io
import json
import logging
import time

from ivr.asr.fake import FakeEngine, FakeRecognizer
from ivr.clock import VirtualClock
from ivr.frames import Alternative, CallEnded, CallStarted, Listen, Say, Transcript, Transfer, UserInput
from ivr.log import setup_logging
from ivr.session import CallRecordStore
from ivr.session.decoding import NBEST, next_best
from tests.session.session_fakes import FakeHandoff, to_frames
from tests.session.test_session import caller_audio, make_session, run_call

# per turn: the best transcript and the next-best ones a beam would give
SCRIPT = [("查餘額", ("茶餘額",)), ("四三二", ("四三二一", "九八七六")), ("五六七", ("五六七八",))]


class NBestRecognizer(FakeRecognizer):
    """Gives the turn's next-best transcripts only when asked for more than one."""

    def __init__(self, sample_rate: int) -> None:
        super().__init__([(t, 0.9) for t, _ in SCRIPT], sample_rate)
        self.asked: list[int] = []

    def finish(self) -> Transcript:
        self.asked.append(self.hypotheses)
        alts = SCRIPT[self.turn][1] if self.turn < len(SCRIPT) and self.hypotheses > 1 else ()
        t = super().finish()
        ranked = tuple(Alternative(a, -0.5 - i, 0.5) for i, a in enumerate(alts))
        return Transcript(t.text, True, t.confidence, time.perf_counter(), alternatives=ranked)


class NBestEngine(FakeEngine):
    def recognizer(self, sample_rate: int = 16000) -> NBestRecognizer:  # type: ignore[override]
        r = NBestRecognizer(sample_rate)
        self.made.append(r)
        return r


class PinDialog:
    """Menu (free text) -> a secret PIN step -> a PIN-hint step that is NOT secret -> agent."""

    def __init__(self) -> None:
        self.heard: list[UserInput] = []

    def step(self, state, event):
        s = dict(state or {"at": "start", "slots": {}, "turns": [], "language": "zh-TW", "path": []})
        if isinstance(event, CallStarted):
            s["at"] = "menu"
            return s, [Say("ask", "zh-TW", "請說"), Listen("menu", "free_text")]
        if isinstance(event, CallEnded):
            return s, []
        assert isinstance(event, UserInput)
        self.heard.append(event)
        if s["at"] == "menu":
            s["at"] = "pin"
            return s, [Say("ask_pin", "zh-TW", "請說密碼"), Listen("code", "digits", secret=True, dtmf_max_digits=4)]
        if s["at"] == "pin":
            s["at"] = "hint"
            return s, [Say("ask_hint", "zh-TW", "請說提示"), Listen("pin_hint", "digits", dtmf_max_digits=4)]
        return s, [Say("bye", "zh-TW", "轉接"), Transfer("T1", reason="done")]


async def test_secret_alternatives_reach_the_dialog_and_never_the_record(tmp_path):
    logs = io.StringIO()
    root = logging.getLogger("ivr")
    saved = (root.handlers[:], root.level, root.propagate)
    setup_logging("debug", json_logs=True, stream=logs)
    try:
        clock = VirtualClock()
        audio = caller_audio([("silence", 1.0), ("speech", 1.0), ("silence", 2.5), ("speech", 1.0),
                              ("silence", 2.5), ("speech", 1.0), ("silence", 3.0)])
        store = CallRecordStore(tmp_path / "calls.sqlite3")
        handoff = FakeHandoff(take_after=1)
        engine, dialog = NBestEngine(), PinDialog()
        s, _ = make_session(clock, to_frames(audio), hold_open=True, store=store, dialog=dialog,
                            handoff=handoff, engine=engine)
        record = await run_call(clock, s)
    finally:
        root.handlers[:], root.level, root.propagate = saved
    # only the number steps asked for the n-best, and their alternatives reached the dialog
    assert engine.made[0].asked == [1, NBEST, NBEST]
    assert [ui.alternatives for ui in dialog.heard] == [(), ("四三二一", "九八七六"), ("五六七八",)]
    recognized = record.of_kind("recognized")
    assert [r["text"] for r in recognized] == ["查餘額", "***", "五六七"]
    assert [r.get("alternatives") for r in recognized] == [None, 2, 1]  # counted, never written out
    bundle = handoff.enqueued[0][0]
    everything = json.dumps(CallRecordStore(tmp_path / "calls.sqlite3").get(record.call_id).to_dict(),
                            ensure_ascii=False) + logs.getvalue() + json.dumps(bundle.to_dict(), ensure_ascii=False)
    for secret in ("四三二", "四三二一", "九八七六"):
        assert secret not in everything
    assert "五六七" in everything and "五六七八" not in everything


def test_next_best_only_at_number_steps():
    tr = Transcript("一二三", True, 0.8, alternatives=(Alternative("一二三四", -0.4), Alternative("一二三", -0.6),
                                                      Alternative("一二三四", -0.7), Alternative("七七", -0.9)))
    assert next_best(tr, "digits") == ("一二三四", "七七")  # the best itself and repeats dropped
    assert next_best(tr, "intent") == () and next_best(tr, "free_text") == ()
    assert next_best(Transcript("", True, 0.0), "digits") == ()
