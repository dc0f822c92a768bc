"""When a store (the Redis or SQLite handoff queue) is down or hung mid-call.

The caller is never left in silence: they hear "系統忙碌，請稍候" and a hold
tone while the store is retried for a bounded time; if it stays down they hear
a recorded-style fallback (call back later, or an emergency number) and the
line is released. ``StoreHealth`` is process-wide: it logs one line when an
outage starts and one when it ends (with how many errors it swallowed), feeds
``/healthz`` and two Prometheus series, instead of a traceback per frame."""
from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ivr.dsn import mask_secrets
from ivr.log import get_logger

log = get_logger(__name__)
T = TypeVar("T")

BUSY_TEXT = "系統忙碌，請稍候"
BUSY_KEY = "system.busy"
FALLBACK_KEY = "system.unavailable"


def fallback_text(emergency_number: str = "") -> str:
    text = "很抱歉，系統暫時無法為您轉接專人，請稍後再撥"
    if emergency_number:
        text += f"。如有緊急需要，請改撥 {emergency_number}"
    return text + "，謝謝您的來電。"


def is_store_error(exc: BaseException) -> bool:
    """A store being down or hung, as opposed to a bug or a refused request."""
    from ivr.handoff.store import store_error_types

    return isinstance(exc, store_error_types())


@dataclass
class _Outage:
    since: float
    errors: int = 1
    last_error: str = ""


class StoreHealth:
    """Up/down per named store, shared by every call of a process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._down: dict[str, _Outage] = {}
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self.on_change: Callable[[str, bool, int], None] | None = None  # (store, up, errors) for metrics

    def failed(self, store: str, exc: BaseException) -> None:
        what = mask_secrets(f"{type(exc).__name__}: {exc}")[:300]
        with self._lock:
            self._known.add(store)
            out = self._down.get(store)
            if out is None:
                self._down[store] = _Outage(self.clock(), 1, what)
                first = True
            else:
                out.errors += 1
                out.last_error = what
                first = False
        if first:
            log.error("%s store unavailable (%s); callers hear the busy prompt and hold tone while it is retried",
                      store, what)
        if self.on_change:
            self.on_change(store, False, 1)

    def ok(self, store: str) -> None:
        with self._lock:
            self._known.add(store)
            out = self._down.pop(store, None)
        if out is not None:
            log.warning("%s store back after %.1f s (%d failed operations during the outage)", store,
                        self.clock() - out.since, out.errors)
            if self.on_change:
                self.on_change(store, True, 0)

    def is_down(self, store: str) -> bool:
        with self._lock:
            return store in self._down

    def snapshot(self) -> dict[str, dict[str, Any]]:
        now = self.clock()
        with self._lock:
            out: dict[str, dict[str, Any]] = {s: {"ok": True} for s in sorted(self._known)}
            for s, o in self._down.items():
                out[s] = {"ok": False, "down_for_s": round(now - o.since, 1), "errors": o.errors,
                          "last_error": o.last_error}
        return out


def hold_tone(seconds: float, rate: int) -> np.ndarray:
    """A soft two-note chime every 2 s: audibly 'still here', not a dead line."""
    n = max(1, int(seconds * rate))
    t = np.arange(n) / rate
    phase = t % 2.0
    note = np.where(phase < 0.25, 660.0, 495.0)
    on = (phase < 0.5).astype(np.float64)
    env = on * np.minimum(1.0, np.minimum(phase % 0.25, 0.25 - phase % 0.25) * 80)  # 12 ms ramps, no clicks
    return (np.sin(2 * math.pi * note * t) * env * 3000).astype(np.int16)


class OutageLine:
    """One call's side of an outage: ``run(op)`` awaits a store operation; if
    it fails or has not answered within ``grace`` seconds, the caller hears
    the busy prompt, then the hold tone between retries, until it succeeds or
    ``retry_for`` seconds pass. Returns ``(True, result)`` or ``(False, None)``
    (the caller should then hear ``fallback_text``). Other errors propagate."""

    def __init__(self, health: StoreHealth, clock: Any, say: Callable[[Any], Any],
                 tone: Callable[[float], Any], language: Callable[[], str], *, retry_for: float = 20.0,
                 retry_every: float = 2.0, grace: float = 0.5, store: str = "handoff") -> None:
        self.health, self.clock, self.say, self.tone, self.language = health, clock, say, tone, language
        self.retry_for, self.retry_every, self.grace, self.store = retry_for, retry_every, grace, store
        self.outages = 0  # times this call had to wait on the store

    async def _settle(self, task: asyncio.Future[Any], seconds: float) -> None:
        sleep = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({task, sleep}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()

    async def run(self, op: Callable[[], Awaitable[T]],
                  late: Callable[[T], Awaitable[Any]] | None = None) -> tuple[bool, T | None]:
        from ivr.frames import Say

        deadline = self.clock.now() + self.retry_for
        first: asyncio.Future[T] = asyncio.ensure_future(op())
        await self._settle(first, self.grace)
        attempt: asyncio.Future[T] | None = first
        told = False
        try:
            while True:
                if attempt is not None and attempt.done():
                    exc = attempt.exception()
                    if exc is None:
                        self.health.ok(self.store)
                        return True, attempt.result()
                    if not is_store_error(exc):
                        raise exc
                    self.health.failed(self.store, exc)
                    attempt = None
                if self.clock.now() >= deadline:
                    if attempt is not None and late is not None:
                        attempt.add_done_callback(lambda f: _late(f, late))
                        attempt = None
                    return False, None
                if not told:
                    told = True
                    self.outages += 1
                    await self.say(Say(BUSY_KEY, self.language(), BUSY_TEXT, interruptible=False))
                else:
                    await self.tone(max(0.2, min(self.retry_every, deadline - self.clock.now())))
                if attempt is None and self.clock.now() < deadline:
                    attempt = asyncio.ensure_future(op())
                    await self._settle(attempt, self.grace)
        finally:
            if attempt is not None and not attempt.done():
                # a hung attempt keeps its thread until the socket times out; nobody waits for it
                attempt.add_done_callback(lambda f: f.cancelled() or f.exception())


def _late(fut: asyncio.Future[Any], late: Callable[[Any], Awaitable[Any]]) -> None:
    """An operation we gave up on succeeded after all (e.g. a ticket for a
    caller who was already told to call back): undo it."""
    if fut.cancelled() or fut.exception() is not None:
        return
    task = asyncio.ensure_future(late(fut.result()))
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


async def with_hold_tone(work: Awaitable[T], clock: Any, tone: Callable[[float], Awaitable[Any]],
                         grace: float = 0.3, chunk: float = 0.5) -> T:
    """Await ``work`` (a prompt being synthesized); if it is not ready within
    ``grace`` seconds, play the hold tone in ``chunk``-second pieces until it
    is, so a cold TTS cache is heard as 'please hold', not as a dead line."""
    task = asyncio.ensure_future(work)
    sleep = asyncio.ensure_future(clock.sleep(grace))
    try:
        await asyncio.wait({task, sleep}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleep.cancel()
    try:
        while not task.done():
            await tone(chunk)
    except BaseException:
        task.cancel()
        raise
    return task.result()
