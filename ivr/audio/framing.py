"""Cutting PCM into fixed-length AudioFrames (20 ms by default)."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ivr.frames import AudioFrame


def frame_samples(rate: int, ms: int = 20) -> int:
    n = rate * ms // 1000
    if n <= 0 or rate * ms % 1000:
        raise ValueError(f"{ms} ms is not a whole number of samples at {rate} Hz")
    return n


def frames(samples: np.ndarray, rate: int, ms: int = 20, t0: float = 0.0) -> Iterator[AudioFrame]:
    """Frames of ``ms`` milliseconds; a short last frame is padded with silence
    so every frame has the same length (VAD and DTMF need whole frames)."""
    n = frame_samples(rate, ms)
    x = np.asarray(samples).astype("<i2", copy=False)
    for i in range(0, len(x), n):
        chunk = x[i:i + n]
        if len(chunk) < n:
            chunk = np.concatenate([chunk, np.zeros(n - len(chunk), dtype="<i2")])
        yield AudioFrame(chunk.tobytes(), rate, t0 + i / rate)


class Framer:
    """Turns arbitrary byte chunks (a socket, a sound card) into whole frames.

    Holds partial frames and odd bytes between calls; timestamps count samples
    from ``t0``, so they never drift however the bytes arrive."""

    def __init__(self, sample_rate: int, ms: int = 20, t0: float = 0.0) -> None:
        self.sample_rate = sample_rate
        self._nbytes = frame_samples(sample_rate, ms) * 2
        self._pending = bytearray()
        self._t0 = t0
        self._emitted = 0  # samples already framed

    def push(self, data: bytes) -> list[AudioFrame]:
        self._pending += data
        out: list[AudioFrame] = []
        nb = self._nbytes
        while len(self._pending) >= nb:
            pcm = bytes(self._pending[:nb])
            del self._pending[:nb]
            out.append(AudioFrame(pcm, self.sample_rate, self._t0 + self._emitted / self.sample_rate))
            self._emitted += nb // 2
        return out

    def flush(self) -> list[AudioFrame]:
        """The last partial frame, padded with silence (an odd trailing byte is dropped)."""
        if len(self._pending) < 2:
            self._pending.clear()
            return []
        pcm = bytes(self._pending[: len(self._pending) & ~1]).ljust(self._nbytes, b"\0")
        self._pending.clear()
        frame = AudioFrame(pcm, self.sample_rate, self._t0 + self._emitted / self.sample_rate)
        self._emitted += self._nbytes // 2
        return [frame]

    @property
    def buffered(self) -> int:
        """Bytes waiting for a whole frame."""
        return len(self._pending)
