"""Playing one prompt into the sink, stoppable at once on barge-in.

``Playback.play`` writes 20 ms frames (the sink paces them on the clock),
waits until they have left, and returns how much the caller heard. If the
barge-in event fires first, the sink's queue is dropped with ``clear()``.

A prompt may come in parts (``prompt_parts``: a sentence synthesized at call
time, clause by clause): the first part plays as soon as it is rendered and
each next one renders while the one before plays.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ivr.audio.base import AudioSink
from ivr.clock import Clock
from ivr.frames import AudioFrame, Say

FRAME_MS = 20


@dataclass(frozen=True)
class Played:
    duration: float
    heard: float
    interrupted: bool
    first_audio_at: float | None


class Playback:
    def __init__(self, sink: AudioSink, clock: Clock, on_audio: Callable[[AudioFrame], None] | None = None) -> None:
        self.sink = sink
        self.clock = clock
        self.on_audio = on_audio
        self.first_write_at: float | None = None
        self.written = 0.0  # seconds of the current prompt handed to the sink's queue

    async def _write_all(self, samples: np.ndarray, rate: int, more: AsyncIterator[np.ndarray] | None = None) -> None:
        await self._write(samples, rate)
        if more is not None:
            async for part in more:
                self.written += len(part) / rate
                await self._write(np.asarray(part, dtype=np.int16), rate)
        await self.sink.flush()

    async def _write(self, samples: np.ndarray, rate: int) -> None:
        n = rate * FRAME_MS // 1000
        for i in range(0, len(samples), n):
            chunk = samples[i:i + n]
            if len(chunk) < n:
                chunk = np.concatenate([chunk, np.zeros(n - len(chunk), dtype=np.int16)])
            frame = AudioFrame.from_array(chunk, rate, self.clock.now())
            if self.first_write_at is None:
                self.first_write_at = self.clock.now()
            if self.on_audio:
                self.on_audio(frame)
            await self.sink.write(frame)

    async def play(self, samples: np.ndarray, barge: asyncio.Event, interruptible: bool,
                   more: AsyncIterator[np.ndarray] | None = None) -> Played:
        """``more``: the prompt's further parts, played after ``samples`` as they come."""
        rate = self.sink.sample_rate
        self.written = len(samples) / rate
        self.first_write_at = None
        start = self.sink.played_seconds
        writer = asyncio.ensure_future(self._write_all(np.asarray(samples, dtype=np.int16), rate, more))
        waiter = asyncio.ensure_future(barge.wait()) if interruptible else None
        try:
            await asyncio.wait([w for w in (writer, waiter) if w], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            writer.cancel()
            self.sink.clear()
            raise
        finally:
            if waiter:
                waiter.cancel()
        interrupted = not writer.done()
        if interrupted:
            writer.cancel()
            self.sink.clear()
            await asyncio.gather(writer, return_exceptions=True)
        else:
            writer.result()
        duration = self.written  # what was rendered: all of it, or up to the barge-in
        heard = min(duration, max(0.0, self.sink.played_seconds - start))
        return Played(duration, heard, interrupted, self.first_write_at)


async def prompt_parts(prompts: Any, say: Say, rate: int, offload: Callable[..., Awaitable[Any]]
                       ) -> tuple[np.ndarray, AsyncIterator[np.ndarray] | None]:
    """The prompt's first part (rendered now) and its further parts (each
    rendered while the one before plays), from a renderer with
    ``render_parts`` (``PromptRenderer``); any other renders whole."""
    parts_of: Callable[[Say, int], Iterator[np.ndarray]] | None = getattr(prompts, "render_parts", None)
    if parts_of is None or not getattr(prompts, "in_parts", lambda s, r: True)(say, rate):
        return await offload(prompts.render, say, rate), None  # one piece: rendered whole, as always
    parts = parts_of(say, rate)
    first = await offload(next, parts, None)
    if first is None:
        raise RuntimeError(f"prompt {say.key}: rendered no audio")

    def render_next() -> asyncio.Future[Any]:
        fut = asyncio.ensure_future(offload(next, parts, None))
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # a prompt cut short never reads it
        return fut

    pending = render_next()  # the second part renders while the first plays

    async def rest() -> AsyncIterator[np.ndarray]:
        nonlocal pending
        try:
            while (part := await pending) is not None:
                pending = render_next()
                yield part
        finally:
            pending.cancel()

    return first, rest()
