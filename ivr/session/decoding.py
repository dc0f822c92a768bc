"""Feeding the caller's speech to the recognizer while they talk.

The audio goes to ``accept`` as it arrives, not in one piece at the end of the
turn: a streaming engine is then nearly done when the endpointer calls the
turn over, and Whisper with speculative decoding has usually decoded during
the trailing silence already. One worker per call runs the recognizer calls
in order through ``offload`` (a thread; inline on a virtual clock).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.asr.base import Recognizer
from ivr.frames import Transcript


class TurnDecoder:
    def __init__(self, offload: Callable[..., Awaitable[Any]]) -> None:
        self.offload = offload
        self._next: tuple[str, Recognizer | None] | None = None
        self._active: tuple[str, Recognizer | None] | None = None
        self._q: asyncio.Queue[tuple] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def use(self, engine: str, recognizer: Recognizer | None) -> None:
        """The recognizer for speech that starts from now on (the next Listen's)."""
        self._next = (engine, recognizer)

    def _put(self, op: tuple) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._work())
        self._q.put_nowait(op)

    def begin(self, pcm: bytes) -> None:
        self._active = self._next
        if self._active is not None and pcm:
            self._put(("accept", self._active[1], pcm))

    def audio(self, pcm: bytes) -> None:
        if self._active is not None:
            self._put(("accept", self._active[1], pcm))

    def drop(self) -> None:
        if self._active is not None:
            self._put(("reset", self._active[1]))
        self._active = None

    def end(self) -> asyncio.Future[tuple[str, Transcript, float]] | None:
        """The turn is over: a future of (engine, Transcript, seconds the
        caller waited for it)."""
        if self._active is None:
            return None
        fut: asyncio.Future[tuple[str, Transcript, float]] = asyncio.get_running_loop().create_future()
        self._put(("finish", self._active[1], fut, self._active[0], time.perf_counter()))
        self._active = None
        return fut

    async def _work(self) -> None:
        while True:
            op = await self._q.get()
            kind, rec = op[0], op[1]
            try:
                if kind == "accept":
                    await self.offload(rec.accept, op[2])
                elif kind == "reset":
                    await self.offload(rec.reset)
                else:
                    fut, engine, t_end = op[2], op[3], op[4]
                    tr = await self.offload(rec.finish)
                    if not fut.done():
                        fut.set_result((engine, tr, time.perf_counter() - t_end))
            except Exception as e:  # a recognizer failure fails that turn, not the call's audio path
                if kind == "finish" and not op[2].done():
                    op[2].set_exception(e)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
