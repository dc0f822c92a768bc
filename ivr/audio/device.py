"""Sound-card I/O through ``sounddevice`` (PortAudio; optional extra ``mic``).

Headless machines can point PortAudio at an ALSA ``type file`` PCM in
``~/.asoundrc``: capture then reads a raw file, which is how the tests prove
the microphone path bit-exact."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from ivr.clock import Clock
from ivr.errors import AudioFormatError
from ivr.frames import AudioFrame

from .framing import Framer, frame_samples
from .sinks import ClockedSink


def _sounddevice(where: str) -> Any:
    try:
        import sounddevice
    except ImportError:
        raise AudioFormatError("needs the 'mic' extra: pip install 'ivr[mic]'", where=where) from None
    except OSError as e:  # PortAudio library missing
        raise AudioFormatError(f"PortAudio not available ({e}); apt-get install libportaudio2", where=where) from None
    return sounddevice


class MicSource:
    """Frames captured from an input device (name or index; None = default).

    Timestamps count captured samples (from ``clock.now()`` at start when a
    clock is given), so they never drift with scheduling jitter. Iteration
    ends after ``max_seconds`` or when ``close()`` is called."""

    def __init__(self, sample_rate: int = 16000, device: str | int | None = None, *, clock: Clock | None = None,
                 ms: int = 20, max_seconds: float | None = None) -> None:
        self.sample_rate = sample_rate
        self.device = device
        self.clock = clock
        self._n = frame_samples(sample_rate, ms)
        self._ms = ms
        self._max = max_seconds
        self._closed = threading.Event()
        self.overflows = 0

    @property
    def where(self) -> str:
        return f"mic {self.device if self.device is not None else 'default'}"

    def close(self) -> None:
        self._closed.set()

    def __aiter__(self) -> AsyncIterator[AudioFrame]:
        return self._run()

    async def _run(self) -> AsyncIterator[AudioFrame]:
        sd = _sounddevice(self.where)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        t0 = self.clock.now() if self.clock is not None else 0.0
        framer = Framer(self.sample_rate, self._ms, t0=t0)

        def on_audio(indata: Any, frames: int, time: Any, status: Any) -> None:
            if status.input_overflow:
                self.overflows += 1
            try:
                loop.call_soon_threadsafe(queue.put_nowait, bytes(indata))
            except RuntimeError:  # the loop closed while PortAudio delivered a last block
                pass

        try:
            stream = sd.RawInputStream(samplerate=self.sample_rate, blocksize=self._n, device=self.device,
                                       channels=1, dtype="int16", callback=on_audio)
        except Exception as e:  # PortAudioError, ValueError for an unknown device name
            raise AudioFormatError(f"cannot open input device: {e}", where=self.where) from None
        limit = int(self._max * self.sample_rate) if self._max is not None else None
        delivered = 0
        with stream:
            while not self._closed.is_set():
                try:
                    chunk = await asyncio.wait_for(queue.get(), timeout=0.5)
                except TimeoutError:
                    continue
                if chunk is None:
                    break
                for frame in framer.push(chunk):
                    if limit is not None and delivered >= limit:
                        return
                    delivered += frame.samples
                    yield frame


class SpeakerSink(ClockedSink):
    """Plays to an output device; ``clear()`` silences it at once.

    Audio goes to the device as it is written (the device buffer is the
    lookahead); timing and ``played_seconds`` follow the clock like every sink."""

    def __init__(self, sample_rate: int = 16000, device: str | int | None = None, clock: Clock | None = None,
                 lookahead: float = 0.1) -> None:
        super().__init__(sample_rate, clock, lookahead)
        self.device = device
        sd = _sounddevice(f"speaker {device if device is not None else 'default'}")
        self._lock = threading.Lock()
        self._buf = bytearray()
        try:
            self._stream = sd.RawOutputStream(samplerate=sample_rate, device=device, channels=1, dtype="int16",
                                              callback=self._fill)
            self._stream.start()
        except Exception as e:
            raise AudioFormatError(f"cannot open output device: {e}",
                                   where=f"speaker {device if device is not None else 'default'}") from None

    def _fill(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        want = frames * 2
        with self._lock:
            chunk = bytes(self._buf[:want])
            del self._buf[:want]
        outdata[:len(chunk)] = chunk
        if len(chunk) < want:
            outdata[len(chunk):] = b"\0" * (want - len(chunk))

    def _queued(self, pcm: bytes) -> None:
        with self._lock:
            self._buf += pcm

    def _dropped(self) -> None:
        with self._lock:
            self._buf.clear()

    def close(self) -> None:
        self._advance()
        self._stream.stop()
        self._stream.close()

    async def aclose(self) -> None:
        self.close()
