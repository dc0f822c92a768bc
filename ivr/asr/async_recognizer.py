"""Async face of a blocking Recognizer: every call runs in a thread executor,
one at a time and in order, so decoding never blocks the event loop and audio
is never reordered."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor

from ivr.asr.base import Recognizer
from ivr.frames import Transcript


class AsyncRecognizer:
    def __init__(self, recognizer: Recognizer, executor: Executor | None = None) -> None:
        self.recognizer = recognizer
        self._own = executor is None
        # a single worker keeps accept/finish strictly ordered per call
        self._executor = executor or ThreadPoolExecutor(1, thread_name_prefix=f"asr-{recognizer.engine_name}")
        self._lock = asyncio.Lock()

    @property
    def sample_rate(self) -> int:
        return self.recognizer.sample_rate

    async def _run(self, fn, *args):
        async with self._lock:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def set_expected(self, phrases: Sequence[str] | None, language: str = "zh-TW") -> None:
        await self._run(self.recognizer.set_expected, phrases, language)

    async def accept(self, pcm: bytes) -> Transcript | None:
        return await self._run(self.recognizer.accept, pcm)

    async def partial(self) -> Transcript | None:
        return await self._run(self.recognizer.partial)

    async def finish(self) -> Transcript:
        return await self._run(self.recognizer.finish)

    async def reset(self) -> None:
        await self._run(self.recognizer.reset)

    async def close(self) -> None:
        await self._run(self.recognizer.close)
        if self._own:
            self._executor.shutdown(wait=False)
