"""A scripted recognizer for unit tests of other rooms (dialog, session, QA):
each ``finish`` returns the next scripted (text, confidence)."""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from ivr.asr.base import Engine, EngineCapabilities, Recognizer
from ivr.frames import LANGUAGES, Transcript


class FakeRecognizer(Recognizer):
    """``FakeRecognizer([("我要查餘額", 0.9), ("", 0.0)])``: turn 1 hears the
    first, turn 2 hears nothing. ``partials=True`` returns the scripted text as
    a partial once audio arrives. Records what it was told, for assertions."""

    engine_name = "fake"

    def __init__(self, script: Iterable[tuple[str, float]] = (), sample_rate: int = 16000,
                 partials: bool = False, partial_script: dict[int, list[str]] | None = None) -> None:
        super().__init__(sample_rate)
        self.script = list(script)
        self.partials = partials
        self.turn = 0
        self.bytes_heard = 0
        self.expected_log: list[tuple[tuple[str, ...] | None, str]] = []
        self.finished: list[Transcript] = []
        self.partial_script: dict[int, list[str]] = dict(partial_script or {})
        self.partials_given = 0

    def set_expected(self, phrases: Sequence[str] | None, language: str = "zh-TW") -> None:
        super().set_expected(phrases, language)
        self.expected_log.append((self.expected, language))

    def _next(self) -> tuple[str, float]:
        return self.script[self.turn] if self.turn < len(self.script) else ("", 0.0)

    def accept(self, pcm: bytes) -> Transcript | None:
        self._samples(pcm)
        self.bytes_heard += len(pcm)
        if self.partials and pcm:
            text, conf = self._next()
            return self._transcript(text, False, conf, time.perf_counter())
        return None

    def partial(self) -> Transcript | None:
        """The turn's scripted text as heard so far: ``partial_script`` maps a
        turn to its partials in order (one per call; the last repeats), else
        the turn's final text once any audio arrived."""
        if not self.bytes_heard:
            return None
        text, conf = self._next()
        steps = self.partial_script.get(self.turn)
        if steps:
            text = steps[min(self.partials_given, len(steps) - 1)]
        self.partials_given += 1
        return self._transcript(text, False, conf, time.perf_counter())

    def finish(self) -> Transcript:
        self.partials_given = 0
        text, conf = self._next()
        self.turn += 1
        self.bytes_heard = 0
        t = self._transcript(text, True, conf, time.perf_counter())
        self.finished.append(t)
        return t

    def reset(self) -> None:
        """Drop the turn. A turn the session ended on a partial (its final is
        that partial: no ``finish``) is reset after it: it counts as heard."""
        if self.partials_given and self.bytes_heard:
            self.turn += 1
        self.bytes_heard = 0
        self.partials_given = 0


class FakeEngine(Engine):
    """Hands out FakeRecognizers sharing one script (one entry per turn).
    ``capabilities`` lets a test stand in for a grammar-only engine."""

    name = "fake"

    def __init__(self, script: Iterable[tuple[str, float]] = (), partials: bool = False,
                 capabilities: EngineCapabilities | None = None,
                 partial_script: dict[int, list[str]] | None = None) -> None:
        super().__init__(Path("."))
        self.script = list(script)
        self.partial_script = dict(partial_script or {})
        self.partials = partials
        self.made: list[FakeRecognizer] = []
        self._capabilities = capabilities or EngineCapabilities(
            grammar=False, free_speech=True, streaming=partials, languages=LANGUAGES)

    @property
    def capabilities(self) -> EngineCapabilities:
        return self._capabilities

    def recognizer(self, sample_rate: int = 16000) -> FakeRecognizer:
        r = FakeRecognizer(self.script, sample_rate, self.partials, self.partial_script)
        self.made.append(r)
        return r
