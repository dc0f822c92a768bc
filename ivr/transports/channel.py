"""The two ends a transport hands to a CallSession.

``StreamSource``: the transport pushes raw PCM, out-of-band DTMF and hangup;
the session iterates 20 ms AudioFrames and DtmfDigits in arrival order.
``PacedSink``: the session writes frames; a pacer sends one every frame
length on the clock (absolute schedule, so it does not drift), counts a frame
as played once its time has passed, and drops everything queued on
``clear()`` (barge-in), telling the transport so it can flush the far end.
"""
from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ivr.audio.framing import Framer
from ivr.clock import Clock
from ivr.frames import AudioFrame, DtmfDigit

_END = object()


class StreamSource:
    """``max_queued`` frames (60 s) may wait for the session; beyond that a
    peer is sending faster than real time and the excess is dropped."""

    def __init__(self, sample_rate: int, clock: Clock, max_queued: int = 3000) -> None:
        self.sample_rate = sample_rate
        self.clock = clock
        self.max_queued = max_queued
        # frames carry clock time (the call's start = now), like every event the session compares them with
        self._framer = Framer(sample_rate, t0=clock.now())
        self._q: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = False
        self.dropped_frames = 0

    def push_pcm(self, pcm: bytes) -> None:
        if not self.closed:
            for f in self._framer.push(pcm):
                if self._q.qsize() >= self.max_queued:
                    self.dropped_frames += 1
                    continue
                self._q.put_nowait(f)

    def push_dtmf(self, digit: str) -> None:
        if not self.closed:
            self._q.put_nowait(DtmfDigit(digit, self.clock.now(), "outband"))

    def hangup(self) -> None:
        if not self.closed:
            self.closed = True
            self._q.put_nowait(_END)

    def __aiter__(self) -> AsyncIterator[AudioFrame | DtmfDigit]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[AudioFrame | DtmfDigit]:
        while True:
            item = await self._q.get()
            if item is _END:
                return
            yield item


class PacedSink:
    """``send(frame)`` delivers one frame to the far end (may be async).
    ``lookahead`` seconds may be queued before ``write`` waits."""

    def __init__(self, send: Callable[[AudioFrame], Awaitable[None] | None], sample_rate: int, clock: Clock,
                 lookahead: float = 0.06, on_clear: Callable[[], Any] | None = None) -> None:
        self.send = send
        self.sample_rate = sample_rate
        self.clock = clock
        self.lookahead = lookahead
        self.on_clear = on_clear
        self.played_seconds = 0.0
        self.sent_frames = 0
        self.late_frames = 0
        self._q: deque[AudioFrame] = deque()
        self._pacer: asyncio.Task[None] | None = None
        self._space = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.closed = False
        self.error: Exception | None = None

    def _queued(self) -> float:
        return sum(f.duration for f in self._q)

    async def write(self, frame: AudioFrame) -> None:
        if self.closed:
            return
        while self._q and self._queued() >= self.lookahead:
            self._space.clear()
            await self._space.wait()
        self._q.append(frame)
        if self._pacer is None or self._pacer.done():
            self._idle.clear()
            self._pacer = asyncio.ensure_future(self._pace())

    async def _pace(self) -> None:
        due = self.clock.now()
        try:
            while self._q and not self.closed:
                frame = self._q.popleft()
                self._space.set()
                now = self.clock.now()
                if now - due > frame.duration:  # fell behind (a busy loop): restart the schedule
                    self.late_frames += 1
                    due = now
                try:
                    out = self.send(frame)
                    if inspect.isawaitable(out):
                        await out
                except Exception as e:  # the far end is gone: stop sending, the source sees the hangup
                    self.error = e
                    self.closed = True
                    self._q.clear()
                    break
                self.sent_frames += 1
                due += frame.duration
                await self.clock.sleep(due - self.clock.now())
                self.played_seconds += frame.duration
        finally:
            self._idle.set()
            self._space.set()

    async def flush(self) -> None:
        while not self._idle.is_set():
            await self._idle.wait()

    def clear(self) -> float:
        dropped = self._queued()
        self._q.clear()
        self._space.set()
        if self.on_clear:
            self.on_clear()
        return dropped

    def close(self) -> None:
        self.closed = True
        self._q.clear()
        if self._pacer is not None:
            self._pacer.cancel()
        self._idle.set()
        self._space.set()
