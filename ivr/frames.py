"""The one small set of event and action types every stage speaks.

Stages pass these frozen dataclasses along; nothing else crosses a stage
boundary. Times are seconds on the call's clock (see ``ivr.clock``), so a call
replayed on a virtual clock produces the same timeline as a live one.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Language = Literal["zh-TW", "nan-TW"]
LANGUAGES: tuple[str, ...] = ("zh-TW", "nan-TW")
# next-best transcripts a caller turn may carry (UserInput.alternatives)
MAX_ALTERNATIVES = 8


# --------------------------------------------------------------------------
# Media and detector events (transport -> VAD/DTMF -> recognizer)
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """Mono PCM, signed 16-bit little-endian; normally 20 ms long."""

    pcm: bytes
    sample_rate: int
    timestamp: float = 0.0

    def __post_init__(self) -> None:
        if len(self.pcm) % 2:
            raise ValueError(f"AudioFrame: odd byte count {len(self.pcm)} for 16-bit PCM")

    @property
    def samples(self) -> int:
        return len(self.pcm) // 2

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    @property
    def end(self) -> float:
        return self.timestamp + self.duration

    def array(self) -> np.ndarray:
        """Samples as int16 (a read-only view, no copy)."""
        return np.frombuffer(self.pcm, dtype="<i2")

    @classmethod
    def from_array(cls, samples: np.ndarray, sample_rate: int, timestamp: float = 0.0) -> AudioFrame:
        clipped = np.clip(np.asarray(samples), -32768, 32767).astype("<i2")
        return cls(clipped.tobytes(), sample_rate, timestamp)


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    timestamp: float


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """End of a caller turn; ``start`` is when that speech began."""

    timestamp: float
    start: float

    @property
    def duration(self) -> float:
        return self.timestamp - self.start


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    digit: str  # one of 0-9 * # A-D
    timestamp: float
    source: Literal["inband", "outband"] = "outband"
    duration: float = 0.0

    def __post_init__(self) -> None:
        if self.digit not in "0123456789*#ABCD" or len(self.digit) != 1:
            raise ValueError(f"DtmfDigit: {self.digit!r} is not a DTMF digit")


@dataclass(frozen=True, slots=True)
class Alternative:
    """One of a closed-set step's expected phrases, scored against the turn's
    audio by the recognizer: not what it transcribed, but how well the audio
    supports this phrase compared with the step's other phrases."""

    text: str
    # mean log-probability per token of the phrase given the audio (<= 0, higher is better)
    score: float
    # calibrated probability that this phrase is what was said, from its
    # score's margin over the best other phrase (see ivr.asr.whisper_score)
    confidence: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError("Alternative: empty phrase")
        if not math.isfinite(self.score) or self.score > 0.0:
            raise ValueError(f"Alternative: score {self.score!r} is not a log-probability (finite, <= 0)")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"Alternative: confidence {self.confidence!r} outside 0..1")


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    is_final: bool
    confidence: float = 1.0
    timestamp: float = 0.0
    language: str = "zh-TW"
    engine: str = ""
    # wall-clock seconds the recognizer spent on this result (for RTF/latency)
    decode_seconds: float = 0.0
    # closed-set steps: the expected phrases ranked by the audio, best first
    # (empty for free speech or an engine that cannot score phrases); ``text``
    # stays the free transcript
    alternatives: tuple[Alternative, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.alternatives, tuple) or not all(isinstance(a, Alternative) for a in self.alternatives):
            raise ValueError("Transcript: alternatives must be a tuple of Alternative")
        if any(a.score < b.score for a, b in zip(self.alternatives, self.alternatives[1:], strict=False)):
            raise ValueError("Transcript: alternatives are not ranked best first")


@dataclass(frozen=True, slots=True)
class CallStarted:
    call_id: str
    caller: str = ""
    called: str = ""
    timestamp: float = 0.0
    language: str = "zh-TW"


@dataclass(frozen=True, slots=True)
class CallEnded:
    timestamp: float
    reason: str = "hangup"  # hangup | transferred | error | shutdown | max_duration


# --------------------------------------------------------------------------
# Dialog inputs: what the session feeds into ``step(state, event)``
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserInput:
    """One caller turn, already recognized: speech text or DTMF keys (or both).
    ``alternatives``: at a number step, the recognizer's next-best transcripts
    after ``text``, best first; where the step's validity test is strong (a Taiwan
    ID's checksum, see ivr.dialog.extract) the dialog reads them in order when
    ``text`` gives no valid value. At a secret step they are as secret as
    ``text``: never logged, stored or said."""

    text: str = ""
    dtmf: str = ""
    confidence: float = 1.0
    timestamp: float = 0.0
    alternatives: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        alts = self.alternatives
        if not isinstance(alts, tuple) or not all(isinstance(a, str) and a.strip() for a in alts):
            raise ValueError("UserInput: alternatives must be a tuple of non-empty transcripts")
        if alts and not self.text.strip():
            raise ValueError("UserInput: alternatives without a transcript (the best one is the text)")
        if len(alts) > MAX_ALTERNATIVES:
            raise ValueError(f"UserInput: {len(alts)} alternatives (at most {MAX_ALTERNATIVES})")


@dataclass(frozen=True, slots=True)
class NoInput:
    timestamp: float = 0.0


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The answer to a ``CallBackend`` action."""

    name: str
    ok: bool
    data: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""


DialogEvent = CallStarted | UserInput | NoInput | ActionResult | CallEnded


# --------------------------------------------------------------------------
# Dialog actions: what ``step`` returns for the session to carry out
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Say:
    """Play a prompt. ``audio`` is a recorded file if the flow has one for the
    language; otherwise ``text`` is synthesized."""

    key: str
    language: str
    text: str = ""
    audio: str | None = None
    interruptible: bool = True


@dataclass(frozen=True, slots=True)
class Listen:
    """Open the caller's turn. ``expected`` goes to the recognizer as grammar/hints."""

    slot: str
    kind: str = "free_text"  # intent | yes_no | digits | amount | date | taiwan_id | free_text
    expected: tuple[str, ...] = ()
    language: str = "zh-TW"
    dtmf_max_digits: int = 1
    dtmf_terminator: str = "#"
    end_silence_ms: int = 700
    # end the turn after this much pause once what was heard already completes
    # the step's answer (the flow's end_of_turn.complete_ms); 0 = always wait end_silence_ms
    complete_ms: int = 0
    no_input_timeout_ms: int = 6000
    # the flow step says ``secret: true`` (a PIN, a one-time code): what the caller
    # keys or says here is masked in transcripts, records, logs and reports
    secret: bool = False


@dataclass(frozen=True, slots=True)
class CallBackend:
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transfer:
    """Hand the call to a live-agent queue. Data, not a side effect: the session
    builds the context bundle and enqueues it."""

    queue: str
    priority: int = 0
    reason: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str = "completed"


DialogAction = Say | Listen | CallBackend | Transfer | Hangup
