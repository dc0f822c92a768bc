"""The typed seams between rooms (see each room's __init__): every shipped
implementation and the fakes the other rooms' tests use still have every
member of its seam. mypy checks the signatures (scripts/lint); this checks the
objects that are built at run time, including ones mypy cannot see."""
from __future__ import annotations

import numpy as np

from ivr.asr import Engine, FakeEngine, Recognizer
from ivr.audio import AudioSink, AudioSource, MemorySink, MemorySource, WavSink
from ivr.clock import VirtualClock
from ivr.dialog import FlowSet, FlowSource, FlowStore
from ivr.handoff import CallHandoff, HandoffService
from ivr.handoff.store import SqliteStore
from ivr.transports import LocalLine, PacedSink, StreamSource
from ivr.transports.audiosocket import AudioSocketServer
from ivr.transports.media_stream import MediaStreamServer


def test_sources_and_sinks_are_the_audio_seams(tmp_path):
    clock = VirtualClock()
    sources = [MemorySource(np.zeros(160, np.int16), 8000), StreamSource(8000, clock), LocalLine(clock)]
    sinks = [MemorySink(8000, clock), WavSink(tmp_path / "out.wav", 8000, clock), PacedSink(lambda f: None, 8000, clock),
             LocalLine(clock).sink]
    for s in sources:
        assert isinstance(s, AudioSource), type(s).__name__
    for s in sinks:
        assert isinstance(s, AudioSink), type(s).__name__
    assert not isinstance(object(), AudioSink)


def test_engines_hand_out_recognizers():
    eng = FakeEngine([("是", 0.9)])
    assert isinstance(eng, Engine) and isinstance(eng.recognizer(8000), Recognizer)


def test_flow_sets_and_stores_are_flow_sources(tmp_path):
    (tmp_path / "main.yaml").write_text(
        "flow: main\nsteps:\n  - id: bye\n    end: true\n    prompt: {zh-TW: 再見, nan-TW: 再會}\n", encoding="utf-8")
    store = FlowStore(tmp_path)
    fs = store.current()
    assert isinstance(fs, FlowSet) and isinstance(fs, FlowSource) and isinstance(store, FlowSource)
    assert fs.current() is fs and fs.get(fs.version) is fs and fs.get("gone") is None
    assert store.get(fs.version) is fs


def test_the_handoff_service_is_what_a_call_needs(tmp_path):
    service = HandoffService(SqliteStore(str(tmp_path / "q.db")))
    assert isinstance(service, CallHandoff)
    service.store.close()


def test_network_transports_are_named():
    assert {AudioSocketServer.name, MediaStreamServer.name} == {"audiosocket", "websocket"}
