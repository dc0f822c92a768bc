"""Answering-machine detection from the cadence of the first seconds after pickup.

A person answers with one short burst ("喂？", "哪位？") and then waits; a
voicemail greeting talks on ("您好，您撥的電話目前無人接聽，請在嗶聲後留言…").
So, on the existing endpointer (``ivr.audio.vad``: WebRTC VAD + noise-floor
gate) cut into phrases at short pauses:

* **human**: speech, then ``after_greeting_silence`` of silence, having said no
  more than ``greeting_max`` seconds in at most ``max_phrases`` phrases;
* **machine**: one phrase longer than ``greeting_max``, total speech past it,
  or more than ``max_phrases`` phrases before that silence;
* **silence**: nothing said for ``initial_silence`` (a person listening, a dead
  line, a machine without a greeting: the dialer treats it as a person: the
  flow's first prompt asks them to speak, and hanging up on a person is worse).

Pure: frames in, one verdict out, times from the frames (tested on real
recordings and synthesized greetings; ``bench/amd.py`` measures it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ivr.audio.vad import Endpointer
from ivr.frames import AudioFrame, SpeechStarted, SpeechStopped

Verdict = Literal["human", "machine", "silence"]


@dataclass(frozen=True)
class AmdConfig:
    initial_silence: float = 2.5     # s of nothing at pickup -> "silence"
    greeting_max: float = 1.6        # s of speech a person says before waiting
    after_greeting_silence: float = 0.8  # s of silence after speech that means "your turn"
    phrase_gap_ms: int = 300         # a pause this long ends a phrase
    max_phrases: int = 2
    total_analysis: float = 5.0      # s: decide by then whatever happens


@dataclass(frozen=True)
class AmdResult:
    verdict: Verdict
    decided_at: float                # seconds after pickup
    speech: float                    # seconds of speech heard
    phrases: int
    why: str


class AnsweringMachineDetector:
    def __init__(self, sample_rate: int, config: AmdConfig | None = None) -> None:
        self.config = c = config or AmdConfig()
        self._ep = Endpointer(sample_rate, end_silence_ms=c.phrase_gap_ms)
        self._t0: float | None = None
        self._start: float | None = None      # the phrase being spoken began here
        self._last_end: float | None = None   # the last phrase ended here
        self._speech = 0.0
        self._phrases = 0
        self.result: AmdResult | None = None

    def _decide(self, verdict: Verdict, t: float, why: str) -> AmdResult:
        assert self._t0 is not None
        self.result = AmdResult(verdict, round(t - self._t0, 3), round(self._speech, 3), self._phrases, why)
        return self.result

    def process(self, frame: AudioFrame) -> AmdResult | None:
        """Feed the callee's audio from pickup on; returns the verdict once made."""
        if self.result is not None:
            return self.result
        c = self.config
        if self._t0 is None:
            self._t0 = frame.timestamp
        for ev in self._ep.process(frame):
            if isinstance(ev, SpeechStarted):
                self._start = ev.timestamp
            elif isinstance(ev, SpeechStopped):
                self._phrases += 1
                self._speech += ev.timestamp - ev.start
                self._start, self._last_end = None, ev.timestamp
                if self._phrases > c.max_phrases:
                    return self._decide("machine", frame.end, f"{self._phrases} phrases")
        now = frame.end
        talking = self._speech + (now - self._start if self._start is not None else 0.0)
        if self._start is not None and now - self._start > c.greeting_max:
            return self._decide("machine", now, f"a phrase longer than {c.greeting_max} s")
        if talking > c.greeting_max:
            return self._decide("machine", now, f"{talking:.1f} s of speech")
        if self._start is None and self._last_end is not None and now - self._last_end >= c.after_greeting_silence:
            return self._decide("human", now, "a short greeting, then waiting")
        if self._start is None and self._last_end is None and now - self._t0 >= c.initial_silence:
            return self._decide("silence", now, f"nothing said for {c.initial_silence} s")
        if now - self._t0 >= c.total_analysis:
            return self._decide("machine" if self._start is not None else "human", now, "analysis time up")
        return None


def detect(samples: np.ndarray, sample_rate: int, config: AmdConfig | None = None) -> AmdResult:
    """The verdict on a whole recording from pickup (silence appended if it ends undecided)."""
    from ivr.audio import frames

    det = AnsweringMachineDetector(sample_rate, config)
    tail = np.zeros(int(sample_rate * (det.config.total_analysis + 1)), dtype=np.int16)
    for f in frames(np.concatenate([samples.astype(np.int16), tail]), sample_rate):
        r = det.process(f)
        if r is not None:
            return r
    raise AssertionError("AMD: no verdict after total_analysis")  # process() always decides by then
