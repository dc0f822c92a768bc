"""A campaign rehearsed on the virtual clock: a dialer whose callees answer,
ring out, are busy or have voicemail at random (seeded), so ``ivr campaign run
--dialer sim`` shows when each contact would be dialled, in seconds."""
from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from typing import Any, TypeVar

from ivr.clock import VirtualClock
from ivr.outbound.dialer import DialOutcome, DialRequest, DialResult, FakeDialer

T = TypeVar("T")
MIX: tuple[tuple[DialOutcome, float], ...] = (("answered", 0.5), ("no_answer", 0.25), ("busy", 0.1),
                                              ("voicemail", 0.15))


def random_dialer(clock: VirtualClock, seed: int = 1, promise_rate: float = 0.5) -> FakeDialer:
    rng = random.Random(seed)
    outcomes, weights = zip(*MIX, strict=True)

    def script(req: DialRequest) -> tuple[DialResult, float]:
        outcome = rng.choices(outcomes, weights)[0]
        if outcome == "answered":
            promised = rng.random() < promise_rate
            return DialResult("answered", flow_result="promised_to_pay" if promised else "",
                              transferred=not promised and rng.random() < 0.5), rng.uniform(40, 120)
        return DialResult(outcome), {"no_answer": 30.0, "busy": 3.0, "voicemail": 25.0}[outcome]

    return FakeDialer(clock, script)


async def drive(clock: VirtualClock, coro: Coroutine[Any, Any, T], limit: float = 400 * 86400.0) -> T:
    """Run ``coro`` jumping the clock from deadline to deadline (``limit``: virtual seconds)."""
    task = asyncio.ensure_future(coro)
    end = clock.now() + limit
    while not task.done():
        for _ in range(5):
            await asyncio.sleep(0)
        if task.done():
            break
        deadline = clock.next_deadline()
        if deadline is None:
            await asyncio.sleep(0)
            continue
        if deadline > end:
            task.cancel()
            raise TimeoutError(f"campaign still running after {limit:.0f} virtual seconds")
        await clock.advance(deadline - clock.now())
    return task.result()
