"""Errors of the prompts room (one line, naming what and where)."""
from __future__ import annotations

from ivr.errors import IvrError


class PromptError(IvrError):
    """A prompt that cannot be rendered: missing recording, missing clip, empty text."""


class VerbalizeError(IvrError):
    """A value a verbalizer cannot read aloud (not a number, out of range, bad date)."""


class TtsError(IvrError):
    """A TTS engine that is unknown, cannot load, or produced no audio."""
