"""A caller who hangs up while their handoff ticket is still being created
(the store's enqueue runs in a thread) must not leave a ticket waiting in the
queue for nobody: the ticket that arrives after the call ended is cancelled."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from ivr.clock import VirtualClock
from ivr.frames import AudioFrame, DtmfDigit
from tests.session.session_fakes import RATE, FakeHandoff
from tests.session.test_session import make_session, run_call

HANGUP_AT = 8.0


class SlowHandoff(FakeHandoff):
    """``enqueue`` runs in a worker thread that waits for ``gate`` (a store
    slow to answer); the ticket exists once the thread is done."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered_at: float | None = None

    async def enqueue(self, bundle: Any, queue: str, priority: int = 0) -> Any:
        self.entered_at = asyncio.get_running_loop().time()

        def blocking() -> Any:  # the store's write: the ticket exists once this returns
            assert self.gate.wait(10.0), "the test never released the store"
            self.enqueued.append((bundle, queue, priority))
            return SimpleNamespace(id=f"t{len(self.enqueued)}", queue=queue, status="waiting")

        return await asyncio.to_thread(blocking)


def hangup_during_transfer() -> list[Any]:
    # "2" at the menu asks for an agent; the line closes (hangup) at HANGUP_AT
    return [DtmfDigit("2", 0.5), AudioFrame(b"\0" * (RATE // 50 * 2), RATE, HANGUP_AT - 0.02)]


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(500):  # bounded: 5 s of real time at most
        if check():
            return
        await asyncio.sleep(0.01)


async def _settle(handoff: SlowHandoff) -> None:
    handoff.gate.set()
    await _until(lambda: bool(handoff.cancelled))  # the thread ends on real time; the cancel follows on the loop


async def test_ticket_created_after_the_caller_hung_up_is_cancelled():
    clock = VirtualClock()
    handoff = SlowHandoff()
    s, _rec = make_session(clock, hangup_during_transfer(), handoff=handoff)
    record = await run_call(clock, s)
    assert handoff.enqueued == [] and not handoff.gate.is_set(), "the store answered before the hangup"
    assert record.end_reason == "hangup" and record.outcome == "abandoned", (record.outcome, record.end_reason)
    await _settle(handoff)
    assert len(handoff.enqueued) == 1  # the store did create the ticket, after the call was over
    assert handoff.cancelled == [("t1", "caller_hangup")]
    assert record.outcome == "abandoned"


async def test_ticket_of_a_cancelled_enqueue_is_cancelled_once_it_exists():
    clock = VirtualClock()
    handoff = SlowHandoff()
    s, _rec = make_session(clock, [], handoff=handoff, hold_open=True)
    call = asyncio.ensure_future(s.run())
    await _until(lambda: s.queue is not None)
    drain = asyncio.ensure_future(s.hand_off_now("shutdown"))  # a draining server queues the call…
    await _until(lambda: handoff.entered_at is not None)
    drain.cancel()  # …and is itself cancelled mid-enqueue; the call then ends
    await asyncio.gather(drain, return_exceptions=True)
    s.end("shutdown")
    for _ in range(1000):
        if call.done():
            break
        await clock.advance(0.01)
    record = call.result()
    assert handoff.enqueued == [] and record.outcome != "handed_off", record.outcome
    await _settle(handoff)
    assert len(handoff.enqueued) == 1
    assert handoff.cancelled == [("t1", "call_ended")]
