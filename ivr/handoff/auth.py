"""Agent passwords: argon2id hashes, never the password itself."""
from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")


def _hasher() -> PasswordHasher:
    # argon2-cffi defaults (RFC 9106 low-memory profile): 64 MiB, t=3.
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(hashed: str, password: str) -> bool:
    if not hashed:
        return False
    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class HasherBusy(Exception):
    """The password pool is full: answer 503 rather than queue more argon2."""


class PasswordPool:
    """argon2 in its own small thread pool with a short queue.

    Each hash costs ~64 MiB and tens of milliseconds of a core; in the shared
    default executor a login flood made live calls wait seconds for their
    decoding and TTS. Here at most ``workers`` hash at once and ``queue`` more
    wait; anything beyond is refused at once with ``HasherBusy``."""

    def __init__(self, workers: int = 1, queue: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._reserved = threading.BoundedSemaphore(1)  # for known desks while strangers flood
        self.typical_seconds = 0.05  # running mean of one verify, for unknown-id answers
        self.refused = 0
        self.runs = 0

    async def _run(self, fn: Callable[..., T], *args: str, priority: bool = False) -> T:
        slots = self._slots
        if not slots.acquire(blocking=False):
            if not (priority and self._reserved.acquire(blocking=False)):
                self.refused += 1
                raise HasherBusy("password hashing is busy")
            slots = self._reserved
        self.runs += 1
        try:
            fut = self._pool.submit(fn, *args)
        except BaseException:
            slots.release()
            raise
        fut.add_done_callback(lambda _: slots.release())  # on completion, even if the caller went away
        return await asyncio.wrap_future(fut)

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password)

    async def verify(self, hashed: str, password: str, priority: bool = False) -> bool:
        t0 = time.perf_counter()
        ok = await self._run(verify_password, hashed, password, priority=priority)
        self.typical_seconds = 0.8 * self.typical_seconds + 0.2 * (time.perf_counter() - t0)
        return ok

    async def equalize(self) -> None:
        """For an unknown agent id: take about as long as a verify would, without
        hashing anything, so answer times do not tell which ids exist."""
        await asyncio.sleep(self.typical_seconds * random.uniform(0.85, 1.15))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
