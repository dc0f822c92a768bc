"""A call inside one process, for ``ivr run --wav`` and ``ivr demo``.

``LocalLine`` is both ends of the line: its source plays a caller script
(a WAV, synthesized speech, in-band DTMF tones, silence; ``wait_reply``
waits until the bot has spoken and gone quiet; ``react`` calls a function
that returns the next steps) and its sink collects the
bot's audio with the call time it left. Run on a ``VirtualClock`` with
blocking work done inline, a call replays as fast as the CPU allows and gives
the same timeline every time.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np

from ivr.frames import AudioFrame, DtmfDigit
from ivr.transports.channel import PacedSink


class LocalLine:
    def __init__(self, clock: Any, script: Sequence[tuple] = (), sample_rate: int = 8000) -> None:
        self.clock = clock
        self.script = list(script)
        self.sample_rate = sample_rate
        self.bot: list[tuple[float, bytes]] = []
        self.caller_marks: list[tuple[float, str]] = []  # (call time, what the caller did)
        self.sink = PacedSink(self._heard, sample_rate, clock)
        self._t = 0.0  # call time of the next caller sample
        self._n = sample_rate // 50

    def _heard(self, frame: AudioFrame) -> None:
        self.bot.append((self.clock.now(), frame.pcm))

    def __aiter__(self) -> AsyncIterator[AudioFrame | DtmfDigit]:
        return self._run()

    async def _frames(self, samples: np.ndarray) -> AsyncIterator[AudioFrame]:
        n = self._n
        x = np.asarray(samples, dtype=np.int16)
        for i in range(0, len(x), n):
            chunk = x[i:i + n]
            if len(chunk) < n:
                chunk = np.concatenate([chunk, np.zeros(n - len(chunk), np.int16)])
            frame = AudioFrame.from_array(chunk, self.sample_rate, self._t)
            self._t = frame.end
            await self.clock.sleep(frame.end - self.clock.now())  # a frame arrives once it has been spoken
            yield frame

    def _bot_quiet_since(self) -> float | None:
        if not self.bot:
            return None
        t, pcm = self.bot[-1]
        return t + len(pcm) / 2 / self.sample_rate

    async def _run(self) -> AsyncIterator[AudioFrame | DtmfDigit]:
        silence = np.zeros(self._n, np.int16)
        i = 0
        while i < len(self.script):
            step = self.script[i]
            i += 1
            kind = step[0]
            if kind == "audio":
                self.caller_marks.append((self._t, step[2] if len(step) > 2 else "speech"))
                async for f in self._frames(step[1]):
                    yield f
            elif kind == "silence":
                async for f in self._frames(np.zeros(int(step[1] * self.sample_rate), np.int16)):
                    yield f
            elif kind == "dtmf":  # out of band, like a SIP INFO / RFC 4733 key
                for d in step[1]:
                    self.caller_marks.append((self._t, f"key {d}"))
                    yield DtmfDigit(d, self._t, "outband")
                    async for f in self._frames(np.zeros(self.sample_rate // 10, np.int16)):
                        yield f
            elif kind == "wait_reply":
                limit, heard_before = self._t + step[1], len(self.bot)
                while self._t < limit:
                    quiet = self._bot_quiet_since()
                    if len(self.bot) > heard_before and quiet is not None and self.clock.now() - quiet > 0.5:
                        break
                    async for f in self._frames(silence):
                        yield f
            elif kind == "react":  # the caller decides what to do next from what happened so far
                self.script[i:i] = list(step[1]())
            elif kind == "hangup":
                return
            else:
                raise ValueError(f"unknown caller step {kind!r}")
        while True:  # the line stays open until the bot ends the call
            async for f in self._frames(silence):
                yield f

    def bot_audio(self) -> np.ndarray:
        """The bot's side as the caller heard it: prompts at their call times,
        silence between."""
        if not self.bot:
            return np.zeros(0, np.int16)
        end = self._bot_quiet_since() or 0.0
        out = np.zeros(int(end * self.sample_rate) + self._n, np.int16)
        for t, pcm in self.bot:
            i = round(t * self.sample_rate)
            x = np.frombuffer(pcm, dtype="<i2")
            out[i:i + len(x)] = x[: len(out) - i]
        return out


async def run_on_virtual_clock(session: Any, clock: Any, limit: float = 3600.0) -> Any:
    """Drive ``session.run()`` on ``clock`` (a VirtualClock), jumping to the
    next deadline whenever nothing else can run."""
    task = asyncio.ensure_future(session.run())
    while not task.done():
        await clock.run_until_idle(limit=limit)
        if not task.done():
            await asyncio.sleep(0.005)  # waiting on something off the clock (a thread): let it land
    return task.result()


async def inline(fn: Any, *args: Any) -> Any:
    """Blocking work run on the loop itself: on a VirtualClock no time passes."""
    return fn(*args)
