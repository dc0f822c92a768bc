"""One queue of decodes for all calls of a process, served in deadline order.

With every call's Whisper decodes going straight to CTranslate2, its workers
take them first come, first served: a caller whose turn is over waits behind
other callers' speculative decodes (guesses made in a pause that may be
thrown away). Here each decode has a class and is served by it:

- ``FINAL``: a turn is over and its caller is waiting;
- ``PARTIAL``: the session asks whether a pause already completes the answer
  (an early end of turn: the caller waits on it too, but less surely);
- ``SPECULATIVE``: a background guess in a pause, to be reused if the caller
  stays quiet.

Within a class the earliest submitted goes first: decodes are submitted when
the caller's turn ends (or pauses), so that is earliest end of turn first,
and no call is starved by later ones. A queued decode that becomes what a
caller waits for (its turn ended on that very snapshot) is ``promote``d.
``waiting()`` lets speculation back off when the queue is long.
"""
from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

FINAL, PARTIAL, SPECULATIVE = 0, 1, 2

T = TypeVar("T")


class _Job(Generic[T]):
    __slots__ = ("args", "fn", "future", "priority", "taken")

    def __init__(self, priority: int, fn: Callable[..., T], args: tuple[object, ...]) -> None:
        self.priority = priority
        self.fn = fn
        self.args = args
        self.future: Future[T] = Future()
        self.taken = False


class DecodeQueue:
    """``workers`` threads run the decodes (the model's own worker count:
    CTranslate2 then never queues one behind another)."""

    def __init__(self, workers: int = 1, name: str = "decode") -> None:
        self.workers = max(1, workers)
        self._heap: list[tuple[int, int, _Job[Any]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._jobs: dict[Future[Any], _Job[Any]] = {}
        self._closed = False
        self._threads = [threading.Thread(target=self._serve, name=f"{name}-{i}", daemon=True)
                         for i in range(self.workers)]
        for t in self._threads:
            t.start()

    def submit(self, priority: int, fn: Callable[..., T], *args: object) -> Future[T]:
        job: _Job[T] = _Job(priority, fn, args)
        with self._cv:
            if self._closed:
                raise RuntimeError("decode queue closed")
            heapq.heappush(self._heap, (priority, next(self._seq), job))
            self._jobs[job.future] = job
            self._cv.notify()
        return job.future

    def promote(self, future: Future[T], priority: int = FINAL) -> None:
        """A queued decode is now waited on by a caller: serve it as ``priority``."""
        with self._cv:
            job = self._jobs.get(future)
            if job is None or job.taken or job.priority <= priority:
                return
            job.priority = priority
            heapq.heappush(self._heap, (priority, next(self._seq), job))  # its old entry is skipped when popped
            self._cv.notify()

    def waiting(self, at_most: int = SPECULATIVE) -> int:
        """Decodes queued, not yet started, of class ``at_most`` or more urgent."""
        with self._cv:
            return sum(1 for j in self._jobs.values() if not j.taken and j.priority <= at_most)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            for job in self._jobs.values():
                job.future.cancel()
            self._jobs.clear()
            self._heap.clear()
            self._cv.notify_all()

    def _take(self) -> _Job[Any] | None:
        with self._cv:
            while True:
                while self._heap:
                    priority, _, job = heapq.heappop(self._heap)
                    if job.taken or priority != job.priority:
                        continue  # already run, or an old entry of a promoted job
                    job.taken = True
                    if not job.future.set_running_or_notify_cancel():
                        self._jobs.pop(job.future, None)
                        continue  # cancelled while queued (a stale speculation)
                    return job
                if self._closed:
                    return None
                self._cv.wait()

    def _serve(self) -> None:
        while (job := self._take()) is not None:
            try:
                job.future.set_result(job.fn(*job.args))
            except BaseException as e:  # the waiting caller gets the failure, the worker goes on
                job.future.set_exception(e)
            finally:
                with self._cv:
                    self._jobs.pop(job.future, None)
