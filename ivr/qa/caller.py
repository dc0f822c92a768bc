"""The simulated caller: plays a scenario's turns into the call session the
way a person on the phone would, on the call's clock.

``ScenarioLine`` is both ends of the phone line: the bot's prompts go into it
(an ``AudioSink``, paced on the clock) and the caller's audio comes out of it
(an async iterator of ``AudioFrame`` and out-of-band ``DtmfDigit``). Because it
hears the bot, the caller waits for a prompt to finish before answering, or
cuts in ``barge_in_ms`` into it, and a no-input turn really is silence on the
line until the bot's timer fires.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from ivr.frames import AudioFrame, DtmfDigit
from ivr.qa.scenario import Scenario, Turn

FRAME_S = 0.02
BLOCK_S = 0.1
# The sink takes bot audio up to SINK_HIGH_S ahead of the clock, then waits
# until only SINK_LOW_S is left (a playout buffer); clear() drops all of it at
# once, so barge-in still stops the prompt immediately.
SINK_HIGH_S = 0.3
SINK_LOW_S = 0.1
DTMF_TONE_S = 0.1
DTMF_GAP_S = 0.1
# How long the caller waits for the bot to say something before acting anyway.
MAX_WAIT_FOR_BOT_S = 60.0
# After the last turn the line stays open (silent) this long for the bot to finish.
HOLD_AFTER_LAST_S = 30.0



def dtmf_audio(digits: str, rate: int) -> np.ndarray:
    """In-band key tones: ivr.audio's generator (the one the detector is
    tested against)."""
    from ivr.audio import dtmf_tones

    return np.asarray(dtmf_tones(digits, rate), dtype=np.int16)


def voice_burst(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Speech-like sound for a text-injected turn: a voiced harmonic series at
    a gliding pitch with a syllable-rate envelope, so the real VAD opens and
    closes a turn around it while the recognizer's answer is scripted."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 150 + 25 * np.sin(2 * np.pi * 1.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum((1 / k) * np.sin(k * phase) for k in range(1, 12) if k * 300 < rate / 2)
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t - np.pi / 2)
    ramp = np.minimum(1, np.minimum(t, seconds - t) / 0.03)
    x = x * env * ramp + 0.01 * rng.standard_normal(n)
    return (0.25 * 32767 * x / (np.abs(x).max() or 1)).astype(np.int16)


@dataclass
class TurnLog:
    """When each caller turn actually happened on the call's clock."""

    index: int
    start: float
    end: float
    pcm: bytes = b""
    text_injected: str | None = None
    bot_was_speaking: bool = False


@dataclass
class TextScript:
    """Text the recognizer must 'hear' for the turn now being played (text-
    injected turns); shared by the line and the recognizer wrapper of one call."""

    pending: list[str] = field(default_factory=list)

    def take(self) -> str | None:
        return self.pending.pop(0) if self.pending else None


class ScenarioLine:
    """Bot sink and caller source of one scenario call."""

    def __init__(self, scenario: Scenario, turn_audio: list[np.ndarray | None], clock, sample_rate: int,
                 script: TextScript | None = None) -> None:
        self.scenario = scenario
        self.turn_audio = turn_audio
        self.clock = clock
        self.sample_rate = sample_rate
        self.script = script or TextScript()
        self.logs: list[TurnLog] = []
        self.hung_up = False
        self.bot_done = False
        # the runner points this at 'the call went to an agent': the caller then hangs up
        self.is_done: Callable[[], bool] = lambda: False
        # resolves {variables} in DTMF turns at the moment they are keyed
        self.variables: Callable[[str], str] = lambda name: ""
        # sink state: queued bot audio as (start, end) on the clock
        self._queued_until = 0.0
        self._played_total = 0.0
        self._segments: list[list[float]] = []  # bot audio [start, end] spans, merged
        self._cleared = 0.0

    def _over(self) -> bool:
        return self.bot_done or self.is_done()

    # -- AudioSink ---------------------------------------------------------
    async def write(self, frame: AudioFrame) -> None:
        now = self.clock.now()
        start = max(now, self._queued_until)
        end = start + frame.duration
        if self._segments and start - self._segments[-1][1] < 1e-6:
            self._segments[-1][1] = end
        else:
            self._segments.append([start, end])
        self._queued_until = end
        ahead = self._queued_until - now
        if ahead > SINK_HIGH_S:
            await self.clock.sleep(ahead - SINK_LOW_S)

    async def flush(self) -> None:
        wait = self._queued_until - self.clock.now()
        if wait > 0:
            await self.clock.sleep(wait)

    def clear(self) -> float:
        now = self.clock.now()
        dropped = max(0.0, self._queued_until - now)
        if dropped and self._segments:
            self._segments[-1][1] = max(self._segments[-1][0], now)
        self._queued_until = min(self._queued_until, now)
        self._cleared += dropped
        return dropped

    @property
    def played_seconds(self) -> float:
        now = self.clock.now()
        return sum(max(0.0, min(e, now) - s) for s, e in self._segments)

    def bot_speaking(self, t: float | None = None) -> bool:
        t = self.clock.now() if t is None else t
        return bool(self._segments) and self._segments[-1][0] <= t < self._segments[-1][1]

    def bot_spans(self) -> list[tuple[float, float]]:
        return [(s, e) for s, e in self._segments]

    def _bot_started_after(self, t: float) -> float | None:
        for s, _ in self._segments:
            if s >= t:
                return s
        return None

    # -- AudioSource -------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[AudioFrame | DtmfDigit]:
        return self._run()

    def _silence(self, seconds: float) -> np.ndarray:
        return np.zeros(round(seconds * self.sample_rate), np.int16)

    async def _frames(self, samples: np.ndarray):
        """20 ms frames, delivered a block at a time (like a jitter buffer
        handing over 100 ms packets): far fewer clock wake-ups per call."""
        n = int(self.sample_rate * FRAME_S)
        per_block = max(1, round(BLOCK_S / FRAME_S))
        pad = (-len(samples)) % n
        if pad:
            samples = np.concatenate([samples, np.zeros(pad, np.int16)])
        pcm = samples.astype("<i2").tobytes()
        step = n * 2
        total = len(pcm) // step
        for b in range(0, total, per_block):
            t0 = self.clock.now()
            count = min(per_block, total - b)
            for k in range(count):
                i = (b + k) * step
                yield AudioFrame(pcm[i:i + step], self.sample_rate, t0 + k * FRAME_S)
            await self.clock.sleep(count * FRAME_S)

    async def _idle_frame(self):
        async for f in self._frames(self._silence(BLOCK_S)):
            yield f

    async def _wait_for_bot(self, turn: Turn, since: float):
        """Silence on the line until the bot has spoken since ``since`` and then
        been quiet for ``pause_ms`` (or, for a barge-in turn, until it is
        ``barge_in_ms`` into its prompt)."""
        deadline = self.clock.now() + MAX_WAIT_FOR_BOT_S
        while self.clock.now() < deadline and not self._over():
            now = self.clock.now()
            started = self._bot_started_after(since)
            if turn.barge_in_ms is not None:
                if started is not None and now >= started + turn.barge_in_ms / 1000:
                    return
            elif (started is not None and not self.bot_speaking(now)
                  and now - self._queued_until >= turn.pause_ms / 1000):
                return
            async for f in self._idle_frame():
                yield f

    def _keys(self, dtmf: str) -> str:
        out = dtmf
        while "{" in out:
            a = out.index("{")
            b = out.index("}", a)
            out = out[:a] + self.variables(out[a + 1:b]) + out[b + 1:]
        return out

    async def _run(self):
        since = 0.0
        for i, turn in enumerate(self.scenario.turns):
            if self._over():
                break
            if turn.hangup:
                async for f in self._wait_for_bot(turn, since):
                    yield f
                self.hung_up = True
                self.logs.append(TurnLog(i, self.clock.now(), self.clock.now()))
                return
            async for f in self._wait_for_bot(turn, since):
                yield f
            if self._over():
                break
            start = self.clock.now()
            log = TurnLog(i, start, start, bot_was_speaking=self.bot_speaking(start))
            self.logs.append(log)
            keys = self._keys(turn.dtmf) if turn.dtmf is not None else None
            if keys is not None and not turn.inband:
                for d in keys:
                    yield DtmfDigit(d, self.clock.now(), "outband", DTMF_TONE_S)
                    async for f in self._frames(self._silence(DTMF_TONE_S + DTMF_GAP_S)):
                        yield f
            else:
                if turn.text is not None:
                    self.script.pending.append(turn.text)
                    log.text_injected = turn.text
                samples = self.turn_audio[i]
                if keys is not None and keys != turn.dtmf:
                    samples = dtmf_audio(keys, self.sample_rate)
                log.pcm = samples.tobytes() if samples is not None else b""
                async for f in self._frames(samples if samples is not None else self._silence(0)):
                    yield f
            log.end = self.clock.now()
            # The bot may answer before the caller's turn is over on the line
            # (keys are acted on at once): its answer is whatever starts after
            # the turn began, as the caller only starts into a quiet line.
            since = start
        # Line stays open until the bot ends the call (the runner sets bot_done).
        end = self.clock.now() + HOLD_AFTER_LAST_S
        while not self._over() and self.clock.now() < end:
            async for f in self._idle_frame():
                yield f
        self.hung_up = not self._over()


def turn_samples(scenario: Scenario, rate: int, read_wav, resample) -> list[np.ndarray | None]:
    """Each turn's caller audio at the line rate (None for keys sent out of band)."""
    out: list[np.ndarray | None] = []
    for i, t in enumerate(scenario.turns):
        if t.audio is not None:
            x, r = read_wav(scenario.resolve(t.audio))
            if t.segment is not None:
                x = x[int(t.segment[0] * r): int(t.segment[1] * r)]
            if r != rate:
                x = resample(x, r, rate)
            if t.gain_db:
                x = np.clip(x * 10 ** (t.gain_db / 20), -32768, 32767).astype(np.int16)
            # a little line silence after speech so the endpointer can close the turn
            out.append(np.concatenate([np.asarray(x, np.int16), np.zeros(int(0.1 * rate), np.int16)]))
        elif t.dtmf is not None:
            out.append(dtmf_audio(t.dtmf, rate) if t.inband and "{" not in t.dtmf else None)
        elif t.text is not None:
            out.append(voice_burst(min(2.5, 0.5 + 0.18 * len(t.text)), rate, seed=i))
        elif t.silence_ms is not None:
            out.append(np.zeros(int(t.silence_ms / 1000 * rate), np.int16))
        else:
            out.append(None)
    return out
