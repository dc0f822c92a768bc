"""The session's smaller parts: turn-taking rules, call records, the
streaming decoder, the paced sink, engine selection."""
from __future__ import annotations

import asyncio
import sqlite3
import wave

import pytest

from ivr.asr import EngineCapabilities, FakeEngine
from ivr.clock import VirtualClock
from ivr.frames import AudioFrame
from ivr.session import BargeInPolicy, CallRecord, CallRecordStore, EngineSelector, Floor, TurnTaking
from ivr.session.decoding import TurnDecoder
from ivr.session.records import RecordWriter
from ivr.transports.channel import PacedSink, StreamSource
from tests.session.session_fakes import inline


def test_turn_taking_rules():
    tt = TurnTaking(BargeInPolicy(confirm_ms=60))
    tt.prompt_started(interruptible=True, t=1.0)
    assert tt.floor is Floor.BOT
    assert tt.speech_started(1.3) is True
    assert tt.tick(1.34) is None  # 40 ms of speech: not yet
    b = tt.tick(1.36)
    assert b is not None and b.by == "speech" and b.t == 1.36
    assert tt.tick(1.5) is None  # once per prompt
    tt.prompt_ended()
    assert tt.speech_stopped() is True

    tt.prompt_started(interruptible=False, t=2.0)
    assert tt.speech_started(2.2) is False  # talking over a must-hear prompt is not input
    assert tt.tick(2.5) is None
    assert tt.dtmf(2.6) == (False, None)
    tt.prompt_ended()
    assert tt.speech_stopped() is False

    tt.speech_started(2.9)  # caller already talking when the next prompt begins
    tt.prompt_started(interruptible=True, t=3.0)
    assert tt.tick(3.2) is None
    tt.speech_stopped()
    keep, barge = tt.dtmf(3.3)
    assert keep and barge.by == "dtmf"

    off = TurnTaking(BargeInPolicy(enabled=False))
    off.prompt_started(True, 0.0)
    off.speech_started(0.1)
    assert off.tick(1.0) is None and off.dtmf(1.0) == (True, None)


def test_records_are_written_as_they_happen(tmp_path):
    db = tmp_path / "calls.sqlite3"
    store = CallRecordStore(db, keep_audio=True)
    writer = RecordWriter(store, CallRecord("call-1", "audiosocket", "0912345678", "zh-TW", 1000.0))
    writer.event("turn", 1.5, text="我的身分證是A123456789", dtmf="")
    writer.audio("caller", b"\x01\x00" * 160, 0.5, 8000)
    # another connection (a crash now) already sees the call and its turn, unfinished
    with sqlite3.connect(db) as other:
        assert other.execute("SELECT outcome FROM calls").fetchone() == (None,)
        data = other.execute("SELECT data FROM events").fetchone()[0]
    assert "A123456789" not in data and "89" in data  # personal data masked in storage
    assert CallRecordStore(db).counts() == {"unfinished": 1}
    rec = writer.finish("self_served", "completed", 12.5, "zh-TW")
    again = CallRecordStore(db).get("call-1")
    assert again.outcome == "self_served" and again.duration == 12.5 and again.turns[0]["t"] == 1.5
    with wave.open(rec.caller_audio) as w:  # audio placed at its call time: 0.5 s of silence first
        assert w.getframerate() == 8000 and w.getnframes() == 4000 + 160
    with pytest.raises(ValueError):
        store.finish(CallRecord("x", outcome="great"))


async def test_decoder_streams_while_the_caller_talks():
    eng = FakeEngine([("查餘額", 0.8)])
    rec = eng.recognizer(sample_rate=8000)
    dec = TurnDecoder(inline)
    dec.use("fake", rec)
    dec.begin(b"\0\0" * 800)
    for _ in range(5):
        dec.audio(b"\0\0" * 160)
    await asyncio.sleep(0)
    assert rec.bytes_heard == 1600 + 5 * 320  # heard before the turn ended
    fut = dec.end()
    engine, tr, waited = await fut
    assert (engine, tr.text) == ("fake", "查餘額") and waited >= 0
    dec.begin(b"\0\0" * 160)
    dec.drop()  # a key press, not speech: the recognizer forgets it
    await asyncio.sleep(0)
    assert rec.bytes_heard == 0
    dec.close()


async def test_decoder_holds_the_clock_while_a_partial_decodes():
    """A partial decoded off the loop (Whisper's own queue) is reported to the
    clock, so a replay's call time stands still until it is done."""
    eng = FakeEngine([("查餘額", 0.8)])
    rec = eng.recognizer(sample_rate=8000)
    clock = VirtualClock()
    held: list[asyncio.Future] = []

    def hold(work: asyncio.Future) -> None:
        held.append(work)
        clock.hold(work)

    dec = TurnDecoder(inline, hold)
    dec.use("fake", rec)
    dec.begin(b"\0\0" * 800)
    peek = dec.peek()
    assert peek is not None
    assert (await peek).text == "查餘額"
    assert len(held) == 1 and held[0].done() and clock.held == 0  # released once decoded
    dec.close()


async def test_paced_sink_paces_clears_and_counts():
    clock = VirtualClock()
    sent: list[float] = []
    cleared = []
    sink = PacedSink(lambda f: sent.append(clock.now()), 8000, clock, on_clear=lambda: cleared.append(1))
    frame = AudioFrame(b"\0\0" * 160, 8000)

    async def write(n):
        for _ in range(n):
            await sink.write(frame)

    task = asyncio.ensure_future(write(50))
    for _ in range(5):
        await asyncio.sleep(0)
    for _ in range(25):
        await clock.advance(0.02)
    assert len(sent) == 26 and sink.played_seconds == pytest.approx(0.5)
    assert sent[:3] == pytest.approx([0.0, 0.02, 0.04])
    dropped = sink.clear()
    assert dropped > 0 and cleared == [1]
    await clock.run_until_idle()
    await task
    assert sink.played_seconds < 1.0 and len(sent) < 50


def test_stream_source_frames_and_drops_floods():
    clock = VirtualClock(start=5.0)
    src = StreamSource(8000, clock, max_queued=3)
    src.push_pcm(b"\0\0" * 500)  # 3 whole frames and a bit
    src.push_pcm(b"\0\0" * 200)  # one more whole frame: over the limit
    assert src.dropped_frames == 1
    src.push_dtmf("5")
    src.hangup()
    src.push_pcm(b"\0\0" * 160)  # after hangup: ignored

    async def collect():
        return [x async for x in src]

    items = asyncio.run(collect())
    assert [getattr(x, "timestamp", None) for x in items[:2]] == [5.0, 5.02]
    assert items[-1].digit == "5"


def test_engine_selection_falls_back():
    from ivr.errors import ModelMissingError

    loaded = []

    def loader(name):
        loaded.append(name)
        if name == "sphinx":
            raise ModelMissingError("not installed: run ivr models install", name)
        return FakeEngine()

    sel = EngineSelector(loader=loader)
    assert sel.choose("zh-TW", ())[0] == "whisper"
    assert sel.choose("nan-TW", ("是", "毋是"))[0] == "whisper"  # sphinx missing -> whisper
    assert sel.choose("nan-TW", ())[0] == "whisper"
    assert loaded == ["whisper", "sphinx"]  # a missing model is tried once
    sel2 = EngineSelector(loader=lambda n: FakeEngine(capabilities=GRAMMAR_ONLY if n == "sphinx" else None))
    assert sel2.choose("nan-TW", ("是",))[0] == "sphinx"
    assert sel2.choose("nan-TW", ())[0] == "whisper"  # free speech: sphinx declares it cannot take it


GRAMMAR_ONLY = EngineCapabilities(grammar=True, free_speech=False, streaming=False, languages=("nan-TW",))


def test_engine_selection_follows_declared_capabilities_not_names():
    # a grammar-only engine under any name is kept off free-speech steps...
    sel = EngineSelector(routes={"nan-TW": "kws"}, fallback="whisper",
                         loader=lambda n: FakeEngine(capabilities=GRAMMAR_ONLY if n == "kws" else None))
    assert sel.choose("nan-TW", ("是", "毋是"))[0] == "kws"
    assert sel.choose("nan-TW", ())[0] == "whisper"
    # ...and an engine called "sphinx" that can take free speech is given it
    sel2 = EngineSelector(loader=lambda n: FakeEngine())
    assert sel2.choose("nan-TW", ())[0] == "sphinx"
    # with one engine there is nothing to fall back to: it hears every step
    only = EngineSelector.single(FakeEngine(capabilities=GRAMMAR_ONLY), "kws")
    assert only.choose("nan-TW", ())[0] == "kws"


def test_warm_up_decodes_once_on_every_loaded_engine_and_survives_a_broken_one():
    engines = {"whisper": FakeEngine(script=[("", 0.0)]), "kws": FakeEngine(capabilities=GRAMMAR_ONLY)}

    class Broken(FakeEngine):
        def recognizer(self, sample_rate=16000):
            raise RuntimeError("model file truncated")

    sel = EngineSelector(routes={"nan-TW": "kws", "x": "broken"}, fallback="whisper",
                         engines={**engines, "broken": Broken()})
    warmed = sel.warm_up(sample_rate=8000)
    assert set(warmed) == {"whisper", "kws"}
    assert [len(e.made) for e in engines.values()] == [1, 1]
    assert engines["kws"].made[0].expected, "a grammar-only engine is warmed with a grammar"
