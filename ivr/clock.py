"""Time for calls: a real clock, and a virtual one so tests replay calls faster
than real time. Everything that waits (no-input timers, prompt pacing, max call
length) asks a Clock, never ``time`` or ``asyncio.sleep`` directly."""
from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def hold(self, work: asyncio.Future[Any]) -> None:
        """``work`` is computation done off the loop (a decode in a model's own
        queue): a virtual clock stands still until it is done."""


class RealClock:
    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._t0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def hold(self, work: asyncio.Future[Any]) -> None:
        """Live, computation takes the time it takes."""


class VirtualClock:
    """Time moves only when told to.

    ``advance(dt)`` wakes every sleeper whose deadline passed, in deadline
    order, letting each run before moving on, so timers fire exactly as they
    would live. ``run_until_idle()`` jumps straight to the next deadline
    whenever nothing else is runnable, which replays a call as fast as the
    CPU allows.

    Computation takes no call time: whoever drives the clock does not move it
    while work is ``held`` (a decode in flight), so replay does not depend on how
    fast or busy the machine is.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self.held = 0  # computations in flight (``hold``)

    def hold(self, work: asyncio.Future[Any]) -> None:
        if work.done():
            return
        self.held += 1
        work.add_done_callback(self._release)

    def _release(self, _work: asyncio.Future[Any]) -> None:
        self.held -= 1

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    @property
    def pending(self) -> int:
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)

    async def _settle(self) -> None:
        # A few loop turns so woken tasks run and may schedule new sleeps.
        for _ in range(5):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        target = self._now + seconds
        while True:
            self._drop_cancelled()
            if not self._sleepers or self._sleepers[0][0] > target:
                break
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not fut.done():
                fut.set_result(None)
            await self._settle()
        self._now = target
        await self._settle()

    async def run_until_idle(self, limit: float = 3600.0) -> None:
        """Advance deadline by deadline until no sleeper is left (or ``limit``
        virtual seconds have passed, a guard against a timer loop)."""
        end = self._now + limit
        while True:
            await self._settle()
            deadline = self.next_deadline()
            if deadline is None or deadline > end:
                return
            await self.advance(deadline - self._now)
