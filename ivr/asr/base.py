"""The recognizer interface: one Engine per process (holds the model), one
Recognizer per call. Everything here blocks; the session goes through
``AsyncRecognizer`` so decoding never stalls the event loop."""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.errors import AudioFormatError, IvrError
from ivr.frames import Transcript

SAMPLE_RATES = (8000, 16000)


@dataclass(frozen=True, slots=True)
class EngineCapabilities:
    """What an engine can do, declared by the engine (not guessed from its name).

    ``grammar``: expected phrases constrain what it can hear (a grammar), rather
    than merely hint. ``free_speech``: it can transcribe a turn with no expected
    phrases; an engine without it is given only steps that have some (the
    session's engine selector falls back otherwise). ``streaming``: ``accept``
    returns partial transcripts while the caller speaks. ``languages``: what it
    is meant to hear (empty: whatever the user-supplied model was trained on)."""

    grammar: bool
    free_speech: bool
    streaming: bool
    languages: tuple[str, ...]
    sample_rates: tuple[int, ...] = SAMPLE_RATES


class Recognizer(ABC):
    """Per-call recognizer. ``accept`` audio of the current turn, ``finish``
    for its final transcript; after ``finish`` it is ready for the next turn."""

    engine_name: str = ""

    def __init__(self, sample_rate: int) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise IvrError(f"unsupported sample rate {sample_rate} Hz (use 8000 or 16000)",
                           f"asr {self.engine_name}")
        self.sample_rate = sample_rate
        self.expected: tuple[str, ...] | None = None
        self.language = "zh-TW"
        # transcripts wanted per turn: > 1 at a number step asks an engine that has a
        # beam (Whisper) for its next-best too, as Transcript.alternatives; others give one
        self.hypotheses = 1

    def set_expected(self, phrases: Sequence[str] | None, language: str = "zh-TW") -> None:
        """Phrases the caller is expected to say (a grammar or hints), or None
        for free speech. Takes effect from the next turn's audio."""
        self.expected = tuple(p for p in phrases if p and p.strip()) if phrases is not None else None
        if self.expected == ():
            self.expected = None
        self.language = language

    @abstractmethod
    def accept(self, pcm: bytes) -> Transcript | None:
        """Feed int16 little-endian mono PCM; may return a partial."""

    @abstractmethod
    def finish(self) -> Transcript:
        """The final transcript of the turn (Traditional characters)."""

    @abstractmethod
    def reset(self) -> None:
        """Drop the current turn's audio."""

    def partial(self) -> Transcript | None:
        """What the turn's audio so far says, without ending the turn (the
        session asks in the caller's pauses, to end a turn whose answer is
        already complete). None: this engine cannot tell before ``finish``."""
        return None

    def partial_later(self) -> Future[Transcript | None]:
        """``partial`` without waiting for it: the snapshot is the audio given
        so far, the decode may finish later (a Whisper decode waiting its turn
        must not hold the caller's audio path). Default: decoded now."""
        fut: Future[Transcript | None] = Future()
        try:
            fut.set_result(self.partial())
        except Exception as e:  # the caller of the future sees it, as with a decode that failed later
            fut.set_exception(e)
        return fut

    def close(self) -> None:  # noqa: B027  optional hook: most recognizers hold nothing to release
        """Release per-call resources."""

    # helpers for engines
    def _samples(self, pcm: bytes) -> np.ndarray:
        if len(pcm) % 2:
            raise AudioFormatError(f"odd byte count {len(pcm)} for 16-bit PCM", f"asr {self.engine_name}")
        return np.frombuffer(pcm, dtype="<i2")

    def _transcript(self, text: str, final: bool, confidence: float, started: float) -> Transcript:
        return Transcript(text=text, is_final=final, confidence=float(max(0.0, min(1.0, confidence))),
                          language=self.language, engine=self.engine_name,
                          decode_seconds=time.perf_counter() - started)


class Engine(ABC):
    """A loaded model. Thread-safe for creating recognizers; one per process."""

    name: str = ""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        self.load_seconds = 0.0

    @property
    @abstractmethod
    def capabilities(self) -> EngineCapabilities:
        """What this engine (with its loaded model) can do."""

    @abstractmethod
    def recognizer(self, sample_rate: int = 16000) -> Recognizer:
        """A fresh recognizer for one call."""

    def close(self) -> None:  # noqa: B027  optional hook: the model is freed with the object by default
        """Free the model."""
