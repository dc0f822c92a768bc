"""The recognizer's confidence reaches the dialog's accept / confirm / reject
(ivr/dialog/closed_set.py) through a real CallSession: real flows, NLU and bank
on a virtual clock, the recognizer scripted with (transcript, confidence)."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ivr.asr import FakeEngine
from ivr.clock import VirtualClock
from ivr.dialog import Dialog
from ivr.frames import DtmfDigit
from ivr.session import CallRecordStore, CallSession
from ivr.transports.channel import PacedSink
from tests.session.session_fakes import (
    RATE,
    ClockedSource,
    EnergyEndpointer,
    FakeHandoff,
    NoDtmf,
    ToneRenderer,
    inline,
    silence,
    to_frames,
    tone,
)

LIN = "0933555777"


@pytest.fixture(scope="module")
def flows():
    from ivr.dialog import load_flows
    from tests.dialog.support import FLOWS

    return load_flows(FLOWS)


@pytest.fixture(scope="module")
def real_nlu():
    from ivr.nlu import Nlu

    return Nlu.load()


@pytest.fixture
def registry(tmp_path):
    from ivr.backends import BackendRegistry
    from ivr.backends.demo_bank import DemoBank

    return DemoBank(tmp_path / "bank.sqlite").register(BackendRegistry())


async def call(flows, nlu, registry, script):
    clock = VirtualClock()
    # key 1 (Mandarin) at 1 s; then the caller speaks at 8 s and at 16 s (1 s of speech each)
    audio = np.concatenate([silence(8.0), tone(1.0, 200, 9000), silence(7.0), tone(1.0, 200, 9000), silence(4.0)])
    items = sorted([*to_frames(audio), DtmfDigit("1", 1.0)], key=lambda i: getattr(i, "end", None) or i.timestamp)
    store = CallRecordStore()
    session = CallSession(ClockedSource(clock, items, hold_open=True), PacedSink(lambda f: None, RATE, clock),
                          FakeEngine(script), Dialog(flows, nlu), ToneRenderer(seconds_per_char=0.02),
                          FakeHandoff(take_after=0), clock, store, call_id="cs-1", caller=LIN,
                          backends=registry.call, offload=inline, endpointer_factory=EnergyEndpointer,
                          dtmf_factory=NoDtmf)
    task = asyncio.ensure_future(session.run())
    while not task.done() and clock.now() < 40:
        await clock.advance(0.05)
    return session, task


def _turns(session):
    return [t for t in session.state.turns if t.get("text")]


async def test_an_unsure_menu_answer_is_asked_about_then_taken(flows, real_nlu, registry):
    session, task = await call(flows, real_nlu, registry, [("我要查餘額", 0.2), ("對", 0.9)])
    turns = _turns(session)
    assert [t.get("decision") for t in turns[:2]] == ["confirm", "accept"], turns
    assert turns[0]["asr_confidence"] == 0.2 and session.state.intent == "check_balance"
    task.cancel()


async def test_a_sure_menu_answer_is_taken_at_once(flows, real_nlu, registry):
    session, task = await call(flows, real_nlu, registry, [("我要查餘額", 0.9)])
    turns = _turns(session)
    assert turns[0]["decision"] == "accept" and session.state.intent == "check_balance"
    task.cancel()
