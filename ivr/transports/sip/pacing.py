"""The bot's audio out, paced by one 20 ms tick for every call of a server.

A pacer task per call (``PacedSink``) wakes 50 times a second per call; at a
hundred calls that is 5,000 wake-ups a second on one event loop, and each
late one is a late packet. Here ``Ticker`` wakes once per 20 ms (absolute
schedule, so it does not drift; a tick more than a frame late restarts it)
and each call's ``TickedSink`` sends at most one frame per tick. A frame
counts as played at the tick after it was sent (its 20 ms have passed).
``TickedSink`` is an ``AudioSink``: ``write`` waits while ``lookahead``
seconds are queued, ``clear`` drops the queue (barge-in)."""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from ivr.frames import AudioFrame

TICK = 0.02


class TickedSink:
    def __init__(self, send: Callable[[AudioFrame], None], sample_rate: int, lookahead: float = 0.06,
                 on_clear: Callable[[], object] | None = None, on_idle: Callable[[], object] | None = None) -> None:
        self.send = send
        self._rate = sample_rate
        self.lookahead = lookahead
        self.on_clear = on_clear
        self.on_idle = on_idle          # the queue ran dry (end of a prompt): the next packet starts a talkspurt
        self.played_seconds = 0.0
        self.sent_frames = 0
        self.late_frames = 0            # sent on a tick that was itself late
        self.closed = False
        self.error: Exception | None = None
        self._q: deque[AudioFrame] = deque()
        self._in_flight = 0.0           # the frame sent at the last tick, played by the next
        self._space = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def sample_rate(self) -> int:
        return self._rate

    def _queued(self) -> float:
        return sum(f.duration for f in self._q)

    async def write(self, frame: AudioFrame) -> None:
        if self.closed:
            return
        while self._q and self._queued() >= self.lookahead and not self.closed:
            self._space.clear()
            await self._space.wait()
        if self.closed:
            return
        self._q.append(frame)
        self._idle.clear()

    def tick(self, late: bool = False) -> None:
        """Send the next frame (called by the server's ``Ticker``)."""
        self.played_seconds += self._in_flight
        self._in_flight = 0.0
        if self._q and not self.closed:
            frame = self._q.popleft()
            try:
                self.send(frame)
            except Exception as e:  # the far end is gone: stop sending, the source sees the hangup
                self.error = e
                self.close()
                return
            self.sent_frames += 1
            self.late_frames += late
            self._in_flight = frame.duration
            self._space.set()
        elif not self._idle.is_set():
            self._idle.set()
            if self.on_idle is not None:
                self.on_idle()

    async def flush(self) -> None:
        while not self._idle.is_set():
            await self._idle.wait()

    def clear(self) -> float:
        dropped = self._queued()
        self._q.clear()
        self._space.set()
        if self.on_clear is not None:
            self.on_clear()
        return dropped

    def close(self) -> None:
        self.closed = True
        self._q.clear()
        self._space.set()
        self._idle.set()


LATENESS_BUCKETS_MS = (1, 2, 5, 10, 20)   # tick lateness histogram: <1, <2, <5, <10, <20, >=20 ms


class Ticker:
    """Calls ``each()`` every 20 ms on the event loop until cancelled; ``late``
    is true for a tick more than 5 ms behind its time. ``lateness`` counts the
    ticks per ``LATENESS_BUCKETS_MS`` bucket (the last: 20 ms or more)."""

    def __init__(self, each: Callable[[bool], None]) -> None:
        self.each = each
        self.ticks = 0
        self.late_ticks = 0
        self.restarts = 0
        self.lateness = [0] * (len(LATENESS_BUCKETS_MS) + 1)
        self.behind_ms = 0.0   # how late the current tick is (read by ``each`` if it cares)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += TICK
            scheduled = due
            delay = due - loop.time()
            if delay < -TICK:  # fell more than a frame behind (a stalled loop): restart the schedule
                self.restarts += 1
                due = loop.time()
            await asyncio.sleep(max(0.0, delay))  # yields even when behind
            # measured against the time it was due, also when the schedule restarts
            behind_ms = self.behind_ms = (loop.time() - scheduled) * 1000
            late = behind_ms > 5
            self.lateness[sum(behind_ms >= b for b in LATENESS_BUCKETS_MS)] += 1
            self.ticks += 1
            self.late_ticks += late
            self.each(late)
