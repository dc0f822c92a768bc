"""Playing one prompt into the sink, stoppable at once on barge-in.

``Playback.play`` writes 20 ms frames (the sink paces them on the clock),
waits until they have left, and returns how much the caller heard. If the
barge-in event fires first, the sink's queue is dropped with ``clear()``.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ivr.audio.base import AudioSink
from ivr.clock import Clock
from ivr.frames import AudioFrame

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

    async def _write_all(self, samples: np.ndarray, rate: int) -> None:
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
        await self.sink.flush()

    async def play(self, samples: np.ndarray, barge: asyncio.Event, interruptible: bool) -> Played:
        rate = self.sink.sample_rate
        duration = len(samples) / rate
        self.first_write_at = None
        start = self.sink.played_seconds
        writer = asyncio.ensure_future(self._write_all(np.asarray(samples, dtype=np.int16), rate))
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
        heard = min(duration, max(0.0, self.sink.played_seconds - start))
        return Played(duration, heard, interrupted, self.first_write_at)
