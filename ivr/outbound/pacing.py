"""Progressive mode: the callees who ask for a person, and how fast to dial.

``AgentPool`` is the campaign's agents on the call's clock: a callee who asks
for a person waits at most ``abandon_seconds`` for one to be free; otherwise
the call is *abandoned* (answered, nobody there: what regulators and callers
hate). ``AbandonPacer`` keeps the abandoned rate (abandoned / answered) under
the campaign's ceiling: every abandoned call over the ceiling takes one call
off the calls allowed in flight (down to one); every call an agent took while
the rate is back under it gives one back (up to the campaign's maximum)."""
from __future__ import annotations

import asyncio

from ivr.clock import Clock


class AgentPool:
    def __init__(self, clock: Clock, agents: int) -> None:
        self.clock, self.agents = clock, agents
        self.free = agents
        self._waiters: list[asyncio.Future[None]] = []
        self.busy_seconds = 0.0          # agents' time on calls, for their idle share

    async def take(self, within: float) -> bool:
        """An agent for this call within ``within`` seconds (then ``release`` it), or False: abandoned."""
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        timer = asyncio.ensure_future(self.clock.sleep(within))
        try:
            await asyncio.wait({fut, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if fut.done():
            return True  # handed over by release(): the agent is ours
        self._waiters.remove(fut)
        fut.cancel()
        return False

    def release(self, talked: float = 0.0) -> None:
        self.busy_seconds += talked
        while self._waiters:
            fut = self._waiters.pop(0)
            if not fut.done():
                fut.set_result(None)  # straight to the next caller waiting
                return
        self.free += 1


class AbandonPacer:
    def __init__(self, max_in_flight: int, ceiling: float) -> None:
        self.max_in_flight, self.ceiling = max_in_flight, ceiling
        self.limit = max_in_flight
        self.answered = 0
        self.abandoned = 0
        self.lowest = max_in_flight

    @property
    def rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    def answered_call(self, abandoned: bool) -> None:
        self.answered += 1
        self.abandoned += abandoned
        if abandoned and self.rate > self.ceiling:
            self.limit = max(1, self.limit - 1)
            self.lowest = min(self.lowest, self.limit)
        elif not abandoned and self.rate <= self.ceiling:
            self.limit = min(self.max_in_flight, self.limit + 1)
