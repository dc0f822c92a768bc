"""Audio sinks: where prompts go (a file, memory, the speaker).

All sinks pace on a ``Clock``: audio written is queued to play from when the
line fell idle, and a frame counts as played once its end time on the clock
has passed. ``write`` returns once at most ``lookahead`` seconds are queued
ahead of the clock (like a sound card's buffer), ``clear()`` drops everything
not yet played (barge-in) and says how much, and ``played_seconds`` is what
the caller actually heard. A WAV sink therefore records exactly what was
heard, with the cut-off prompt truncated where the caller barged in."""
from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

from ivr.clock import Clock, RealClock
from ivr.frames import AudioFrame


class ClockedSink:
    """Base of the file, memory and speaker sinks (an ``AudioSink``)."""

    def __init__(self, sample_rate: int, clock: Clock | None = None, lookahead: float = 0.1) -> None:
        self.sample_rate = sample_rate
        self.clock: Clock = clock or RealClock()
        self.lookahead = lookahead
        self._committed = 0.0  # seconds played in finished segments
        self._seg_start = 0.0  # clock time the current segment began playing
        self._seg_audio = bytearray()  # all audio of the current segment
        self._seg_emitted = 0  # bytes of it already handed to _played()

    # -- hooks for subclasses ------------------------------------------------
    def _queued(self, pcm: bytes) -> None:
        """Audio accepted for playing (a device sink sends it ahead here)."""

    def _played(self, pcm: bytes) -> None:
        """Audio whose time on the clock has passed."""

    def _dropped(self) -> None:
        """Queued audio was cleared."""

    # -- accounting ----------------------------------------------------------
    def _seg_seconds(self) -> float:
        return len(self._seg_audio) / 2 / self.sample_rate

    def _seg_played_bytes(self) -> int:
        elapsed = self.clock.now() - self._seg_start
        n = int(max(0.0, elapsed) * self.sample_rate + 1e-6) * 2
        return min(n, len(self._seg_audio))

    def _advance(self) -> None:
        done = self._seg_played_bytes()
        if done > self._seg_emitted:
            self._played(bytes(self._seg_audio[self._seg_emitted:done]))
            self._seg_emitted = done

    def _new_segment(self) -> None:
        self._advance()
        self._committed += self._seg_emitted / 2 / self.sample_rate
        self._seg_audio = bytearray()
        self._seg_emitted = 0
        self._seg_start = self.clock.now()

    @property
    def played_seconds(self) -> float:
        return self._committed + self._seg_played_bytes() / 2 / self.sample_rate

    @property
    def queued_seconds(self) -> float:
        """Written but not yet played."""
        return (len(self._seg_audio) - self._seg_played_bytes()) / 2 / self.sample_rate

    @property
    def playing(self) -> bool:
        return self.queued_seconds > 0

    # -- the API -------------------------------------------------------------
    async def write(self, frame: AudioFrame) -> None:
        if frame.sample_rate != self.sample_rate:
            raise ValueError(f"{type(self).__name__}: frame at {frame.sample_rate} Hz, "
                             f"sink plays {self.sample_rate} Hz")
        if not self.playing:
            self._new_segment()  # the line was idle: this audio starts now
        self._seg_audio += frame.pcm
        self._queued(frame.pcm)
        ahead = self.queued_seconds
        if ahead > self.lookahead:
            await self.clock.sleep(ahead - self.lookahead)
        self._advance()

    async def flush(self) -> None:
        """Wait until everything written has played."""
        left = self.queued_seconds
        if left > 0:
            await self.clock.sleep(left)
        self._advance()

    def clear(self) -> float:
        """Drop what has not played yet (barge-in); returns the seconds dropped."""
        self._advance()
        dropped = (len(self._seg_audio) - self._seg_emitted) / 2 / self.sample_rate
        del self._seg_audio[self._seg_emitted:]
        self._dropped()
        self._new_segment()
        return dropped

    async def aclose(self) -> None:
        self._advance()


class MemorySink(ClockedSink):
    """Keeps what was played; ``samples()`` returns it as int16."""

    def __init__(self, sample_rate: int, clock: Clock | None = None, lookahead: float = 0.1) -> None:
        super().__init__(sample_rate, clock, lookahead)
        self._out = bytearray()

    def _played(self, pcm: bytes) -> None:
        self._out += pcm

    def samples(self) -> np.ndarray:
        self._advance()
        return np.frombuffer(bytes(self._out), dtype="<i2").copy()


class WavSink(ClockedSink):
    """Writes what was played to a 16-bit mono WAV, growing as it plays; the
    header is correct after every ``flush``/``clear``/``aclose``."""

    def __init__(self, path: str | os.PathLike[str], sample_rate: int, clock: Clock | None = None,
                 lookahead: float = 0.1) -> None:
        super().__init__(sample_rate, clock, lookahead)
        self.path = Path(path)
        self._wav: wave.Wave_write | None = wave.open(str(self.path), "wb")  # noqa: SIM115  open while the call plays
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)

    def _played(self, pcm: bytes) -> None:
        if self._wav is not None:
            self._wav.writeframes(pcm)  # wave patches the RIFF sizes on each write

    async def aclose(self) -> None:
        self._advance()
        if self._wav is not None:
            self._wav.close()
            self._wav = None

    def close(self) -> None:
        self._advance()
        if self._wav is not None:
            self._wav.close()
            self._wav = None
