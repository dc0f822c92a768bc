"""The session writes each finished call into caller history (its end-of-call
hook), and the next call from the same number is routed on it: a real
CallSession on a VirtualClock, the real flows, bank and history store."""
from __future__ import annotations

import asyncio

from ivr.asr import FakeEngine
from ivr.clock import VirtualClock
from ivr.dialog import Dialog
from ivr.frames import DtmfDigit
from ivr.session import CallRecordStore, CallSession
from ivr.transports.channel import PacedSink
from tests.session.session_fakes import RATE, ClockedSource, EnergyEndpointer, FakeHandoff, NoDtmf, ToneRenderer, inline

LIN = "0933555777"


async def one_call(flows, nlu, registry, history, call_id, keys):
    clock = VirtualClock()
    handoff = FakeHandoff(take_after=0)
    # keys pressed while prompts play (DTMF barges in), 4 s apart
    items = [DtmfDigit(k, 2.0 + 4.0 * i) for i, k in enumerate(keys)]
    session = CallSession(ClockedSource(clock, items, hold_open=True), PacedSink(lambda f: None, RATE, clock),
                          FakeEngine([]), Dialog(flows, nlu), ToneRenderer(seconds_per_char=0.02), handoff, clock,
                          CallRecordStore(), call_id=call_id, caller=LIN, backends=registry.call, offload=inline,
                          endpointer_factory=EnergyEndpointer, dtmf_factory=NoDtmf, after_call=history.record_call)
    task = asyncio.ensure_future(session.run())
    while not task.done() and clock.now() < 300:
        await clock.advance(0.05)
    return task.result(), handoff


async def test_finished_call_is_in_history_and_routes_the_next(flows, real_nlu, registry, history):
    # call 1: Mandarin, 5 = complaint, then nothing said twice: to T3 (the agent will ask)
    record, handoff = await one_call(flows, real_nlu, registry, history, "call-1", "15")
    assert record.outcome == "handed_off" and handoff.enqueued[0][1] == "T3", record.events
    contact = history.contacts(caller=LIN)[0]
    assert (contact.call_id, contact.intents, contact.queue, contact.outcome) == \
        ("call-1", ("complaint",), "T3", "handed_off")
    assert contact.number_shown == "*******777" and contact.customer_id == ""
    # call 2 from the same number: asked whether it is the same matter, 1 = yes: straight to T3, priority 7
    record, handoff = await one_call(flows, real_nlu, registry, history, "call-2", "11")
    bundle, queue, priority = handoff.enqueued[0]
    assert (queue, priority, bundle.reason) == ("T3", 7, "repeat_unresolved"), record.events
    # the agent's screen pop shows the earlier call
    assert bundle.recent_contacts[0]["intent"] == "complaint" and bundle.recent_contacts[0]["queue"] == "T3"
    assert [c.call_id for c in history.contacts(caller=LIN)] == ["call-2", "call-1"]


async def test_a_failing_hook_never_reaches_the_call(flows, real_nlu, registry, history):
    def broken(record, state):
        raise RuntimeError("history database gone")

    history.record_call = broken  # type: ignore[method-assign]
    record, _ = await one_call(flows, real_nlu, registry, history, "call-1", "15")
    assert record.outcome == "handed_off"
