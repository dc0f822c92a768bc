"""Audio sources: async iterators of 20 ms ``AudioFrame``s.

With a ``clock`` a source is paced like live audio: each frame is delivered
when its last sample would have arrived (``t0 + frame end`` on that clock).
Without one, frames come as fast as the consumer takes them (QA replays)."""
from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable

import numpy as np

from ivr.clock import Clock
from ivr.frames import AudioFrame

from .framing import frames
from .resample import resample
from .wav import read_wav


class ClockedSource:
    """Base of the file and memory sources (an ``AudioSource``): subclasses
    implement ``_frames()``; iteration adds the pacing."""

    sample_rate: int

    def __init__(self, sample_rate: int, clock: Clock | None = None) -> None:
        self.sample_rate = sample_rate
        self.clock = clock

    def _frames(self) -> Iterable[AudioFrame]:
        raise NotImplementedError

    def __aiter__(self) -> AsyncIterator[AudioFrame]:
        return self._run()

    async def _run(self) -> AsyncIterator[AudioFrame]:
        clock = self.clock
        start = clock.now() if clock is not None else 0.0
        for frame in self._frames():
            if clock is not None:
                due = start + frame.end
                wait = due - clock.now()
                if wait > 0:
                    await clock.sleep(wait)
                frame = AudioFrame(frame.pcm, frame.sample_rate, start + frame.timestamp)
            yield frame


class MemorySource(ClockedSource):
    """Frames from an int16 array (or from ready-made frames)."""

    def __init__(self, samples: np.ndarray | Iterable[AudioFrame], sample_rate: int, *,
                 clock: Clock | None = None, ms: int = 20) -> None:
        super().__init__(sample_rate, clock)
        self._ms = ms
        if isinstance(samples, np.ndarray):
            self._samples: np.ndarray | None = samples.astype(np.int16, copy=False)
            self._given: list[AudioFrame] = []
        else:
            self._samples = None
            self._given = list(samples)

    @property
    def duration(self) -> float:
        if self._samples is not None:
            return len(self._samples) / self.sample_rate
        return sum(f.duration for f in self._given)

    def _frames(self) -> Iterable[AudioFrame]:
        if self._samples is not None:
            return frames(self._samples, self.sample_rate, self._ms)
        return iter(self._given)


class WavSource(MemorySource):
    """Frames from a WAV file, converted to ``sample_rate`` if given (e.g. 8000
    for the telephone path, 16000 for wideband recognizers)."""

    def __init__(self, path: str | os.PathLike[str], sample_rate: int | None = None, *,
                 clock: Clock | None = None, ms: int = 20) -> None:
        samples, rate = read_wav(path)
        self.path = str(path)
        self.source_rate = rate
        target = sample_rate or rate
        if target != rate:
            samples = resample(samples, rate, target)
        super().__init__(samples, target, clock=clock, ms=ms)
