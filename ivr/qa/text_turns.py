"""Text-injected turns: the caller's words are given as text in the scenario
(a Taiwanese caller with no recording, a flow designer's quick check).

The wrapper sits in front of a real engine. For a text turn the line plays a
speech-like burst (so the real VAD and turn-taking run) and the recognizer
answers with the scripted text; every other turn is decoded by the real engine.
``engine: text`` in a scenario uses no speech model at all (text and DTMF only).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from ivr.asr.base import Engine, EngineCapabilities, Recognizer
from ivr.frames import LANGUAGES, Transcript
from ivr.qa.caller import TextScript

# ``engine: text``: no speech model, so nothing but the scripted text is heard
TEXT_ONLY = EngineCapabilities(grammar=False, free_speech=True, streaming=False, languages=LANGUAGES)


class TextTurnRecognizer(Recognizer):
    def __init__(self, real: Recognizer | None, script: TextScript, sample_rate: int, name: str) -> None:
        super().__init__(sample_rate)
        self.real = real
        self.script = script
        self.engine_name = name

    def set_expected(self, phrases: Sequence[str] | None, language: str = "zh-TW") -> None:
        self.language = language
        if self.real is not None:
            self.real.set_expected(phrases, language=language)

    def accept(self, pcm: bytes) -> Transcript | None:
        if self.script.pending or self.real is None:
            return None
        return self.real.accept(pcm)

    def finish(self) -> Transcript:
        text = self.script.take()
        if text is not None or self.real is None:
            if self.real is not None:
                self.real.reset()
            return Transcript(text or "", True, 1.0 if text else 0.0, time.perf_counter(), self.language, "text")
        return self.real.finish()

    def reset(self) -> None:
        if self.real is not None:
            self.real.reset()


class TextTurnEngine(Engine):
    """One per call: wraps the process-wide engine with this call's script."""

    def __init__(self, real: Engine | None, script: TextScript, name: str) -> None:
        super().__init__(real.model_dir if real is not None else Path("."))
        self.real = real
        self.script = script
        self.name = name

    @property
    def capabilities(self) -> EngineCapabilities:
        return self.real.capabilities if self.real is not None else TEXT_ONLY

    def recognizer(self, sample_rate: int = 16000) -> TextTurnRecognizer:
        rec = self.real.recognizer(sample_rate=sample_rate) if self.real is not None else None
        return TextTurnRecognizer(rec, self.script, sample_rate, self.name)
