"""The bot's audio out, paced by one 20 ms tick for every call of a server,
on a thread of its own.

The calls' sessions, the caller's audio coming in and sippy's threads all
share the event loop and the GIL; at a hundred calls the loop is busy a good
part of every 20 ms, and a tick that waits behind that work is a late packet
for every call at once. So the sending is not done on the loop: ``Pacer``
is one thread that sleeps until each tick's absolute deadline (a monotonic
schedule, not "now + 20 ms", so it does not drift; a tick more than a frame
late restarts it) and sends, in one batch, each call's next RTP packet,
encoded beforehand. The loop only keeps each call's queue filled
``lookahead`` ahead, which it may do late without anything being heard.

``TickedSink`` is one call's queue and an ``AudioSink``: ``write`` (loop)
encodes a frame with ``prepare`` and waits while ``lookahead`` seconds are
queued; ``tick`` (pacer thread) sends the next one; ``service`` (loop, every
20 ms) wakes the writer once less than ``refill`` is queued (by default
``lookahead``: a frame at a time) and notices the end of a talkspurt; ``clear`` drops
the queue (barge-in). A frame counts as played at the tick after it was sent.
The thread and the loop share only a deque (append/popleft are atomic) and
plain flags.

A server sends from its RTP sender process (``offload.py``) by default; this
thread is its fallback and ``SipOptions(rtp_sender="thread")``."""
from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from ivr.frames import AudioFrame
from ivr.log import get_logger

log = get_logger(__name__)
TICK = 0.02
SWITCH_INTERVAL = 0.001     # seconds: the process's GIL switch interval while a pacer runs
T = TypeVar("T")


class TickedSink(Generic[T]):
    def __init__(self, send: Callable[[T, bool], None], sample_rate: int,
                 prepare: Callable[[AudioFrame], T], lookahead: float = 0.2,
                 on_clear: Callable[[], object] | None = None, refill: float | None = None) -> None:
        self.send = send                # (what prepare made, marker: the first packet of a talkspurt)
        self.prepare = prepare
        self._rate = sample_rate
        self.lookahead = lookahead
        self.refill = lookahead if refill is None else refill  # the writer waits until less than this is queued
        self.on_clear = on_clear
        self.played_seconds = 0.0
        self.sent_frames = 0
        self.late_frames = 0            # sent on a tick that was itself late
        self.underruns = 0              # the queue ran dry inside a talkspurt (the loop fell behind lookahead)
        self.closed = False
        self.error: Exception | None = None
        self._q: deque[tuple[float, T]] = deque()
        self._frame = TICK
        self._in_flight = 0.0           # the frame sent at the last tick, played by the next
        self._dry_ticks = 0             # ticks that found the queue empty since the last packet
        self._spurt_over = True         # the next packet starts a talkspurt (RTP marker bit)
        self._space = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def sample_rate(self) -> int:
        return self._rate

    def _full(self) -> bool:
        return len(self._q) * self._frame >= self.lookahead - 1e-9

    # -- event loop ---------------------------------------------------------
    async def write(self, frame: AudioFrame) -> None:
        if self.closed:
            return
        while self._q and self._full() and not self.closed:
            self._space.clear()
            await self._space.wait()
        if self.closed:
            return
        self._frame = frame.duration or TICK
        self._idle.clear()
        item = self.prepare(frame)
        self._q.append((frame.duration, item))
        self._queued(item)

    def _queued(self, item: T) -> None:
        """``item`` was just queued (on the loop): a subclass hands it on (offload.OffloadedSink)."""

    def service(self) -> None:
        """Every 20 ms on the loop: room for the writer, and the end of a
        talkspurt (the queue empty and its last frame played)."""
        if len(self._q) * self._frame < self.refill - 1e-9:
            self._space.set()
        if not self._q and self._in_flight == 0.0 and not self._idle.is_set():
            self._spurt_over = True
            self._idle.set()
        if self.error is not None and not self.closed:
            self.close()  # the pacer could not send: the writer stops waiting

    async def flush(self) -> None:
        while not self._idle.is_set():
            await self._idle.wait()

    def clear(self) -> float:
        dropped = sum(d for d, _ in list(self._q))
        self._q.clear()
        self._spurt_over = True
        self._space.set()
        if self.on_clear is not None:
            self.on_clear()
        return dropped

    def close(self) -> None:
        self.closed = True
        self._q.clear()
        self._space.set()
        self._idle.set()

    # -- pacer thread -------------------------------------------------------
    def tick(self, late: bool = False) -> None:
        """Send the next frame (the pacer's tick; no asyncio here)."""
        self.played_seconds += self._in_flight
        self._in_flight = 0.0
        if self.closed or self.error is not None:
            return
        try:
            duration, item = self._q.popleft()
        except IndexError:
            self._dry_ticks += 1
            return
        marker = self._spurt_over
        if self._dry_ticks and not marker:
            self.underruns += 1
        self._spurt_over = False
        self._dry_ticks = 0
        try:
            self.send(item, marker)
        except Exception as e:  # the far end is gone: stop sending; the loop sees ``error`` and closes
            self.error = e
            return
        self.sent_frames += 1
        self.late_frames += late
        self._in_flight = duration


LATENESS_BUCKETS_MS = (1, 2, 5, 10, 20)   # tick lateness histogram: <1, <2, <5, <10, <20, >=20 ms


class _Schedule:
    """A 20 ms schedule's bookkeeping: ``late`` is a tick more than 5 ms behind
    its time; ``lateness`` counts ticks per ``LATENESS_BUCKETS_MS`` bucket (the
    last: 20 ms or more)."""

    def __init__(self, each: Callable[[bool], None]) -> None:
        self.each = each
        self.ticks = 0
        self.late_ticks = 0
        self.restarts = 0
        self.lateness = [0] * (len(LATENESS_BUCKETS_MS) + 1)
        self.behind_ms = 0.0   # how late the current tick is (read by ``each`` if it cares)

    def _count(self, behind_ms: float) -> bool:
        self.behind_ms = behind_ms
        late = behind_ms > 5
        self.lateness[sum(behind_ms >= b for b in LATENESS_BUCKETS_MS)] += 1
        self.ticks += 1
        self.late_ticks += late
        return late


class Ticker(_Schedule):
    """Calls ``each()`` every 20 ms on the event loop until cancelled (the
    housekeeping that may run a little late: comfort silence, timeouts)."""

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
            self.each(self._count((loop.time() - scheduled) * 1000))


class Pacer(_Schedule):
    """The sending thread: every 20 ms (absolute schedule), ``tick`` of every
    sink added. ``each`` may be wrapped (the benchmark does, on this thread)."""

    def __init__(self, nice: int = -10) -> None:
        super().__init__(self._send_all)
        self.nice = nice                # this thread's priority, if the process may raise it (CAP_SYS_NICE)
        self.prioritized = False
        self._sinks: tuple[TickedSink[object], ...] = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, sink: TickedSink[T]) -> None:
        with self._lock:
            self._sinks = (*self._sinks, sink)  # type: ignore[arg-type]  # a tuple swapped whole: the thread reads it lock-free

    def remove(self, sink: TickedSink[T]) -> None:
        with self._lock:
            self._sinks = tuple(s for s in self._sinks if s is not sink)

    @property
    def sinks(self) -> Sequence[TickedSink[object]]:
        return self._sinks

    def start(self) -> None:
        # A thread waiting for the GIL gets it after at most the switch interval
        # (5 ms by default: a whole late packet). 1 ms bounds the pacer's wait on
        # the loop's Python work; forced switches happen only while a thread waits.
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sip-pacer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def _send_all(self, late: bool) -> None:
        for sink in self._sinks:
            sink.tick(late)

    def _run(self) -> None:
        if self.nice:
            try:  # Linux: a thread's nice value is its own; sending 20 ms audio is the one job that cannot wait
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
                self.prioritized = True
            except (OSError, AttributeError) as e:
                log.info("sip pacer: runs at normal priority (%s)", e.strerror if isinstance(e, OSError) else e)
        due = time.monotonic()
        while not self._stop.is_set():
            due += TICK
            scheduled = due
            delay = due - time.monotonic()
            if delay < -TICK:
                self.restarts += 1
                due = time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            try:
                self.each(self._count((time.monotonic() - scheduled) * 1000))
            except Exception as e:  # a bug in one tick must not end every call's audio
                log.error("sip pacer: tick failed (%s: %s)", type(e).__name__, e)
