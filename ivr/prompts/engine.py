"""The TTS interface every engine implements, and the name -> engine factory.

Engines load their model lazily on the first ``synthesize`` call, so creating
one is free and a renderer whose prompts are all cached never loads a model.
"""
from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

import numpy as np

from ivr.prompts.errors import TtsError

# Chosen by bench/tts.py: lowest Whisper CER on synthesized Mandarin prompts.
DEFAULT_TTS = "kokoro"
TTS_ENGINES = ("kokoro", "espeak", "pyttsx3")


@runtime_checkable
class TtsEngine(Protocol):
    name: str
    voice: str

    @property
    def variant(self) -> str:
        """Settings that change the sound (speed, rate): part of the cache key."""
        ...

    @property
    def loaded(self) -> bool: ...

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Mono int16 samples at the engine's native rate, and that rate."""
        ...


def load_tts(name: str = DEFAULT_TTS, voice: str | None = None) -> TtsEngine:
    """A TTS engine by name (``kokoro``, ``espeak``, ``pyttsx3``); the model loads on first use."""
    if name == "kokoro":
        from ivr.prompts.kokoro import KokoroTts
        return KokoroTts(voice=voice or KokoroTts.DEFAULT_VOICE)
    if name == "espeak":
        from ivr.prompts.espeak import EspeakTts
        return EspeakTts(voice=voice or EspeakTts.DEFAULT_VOICE)
    if name == "pyttsx3":
        from ivr.prompts.pyttsx3_tts import Pyttsx3Tts
        return Pyttsx3Tts(voice=voice or Pyttsx3Tts.DEFAULT_VOICE)
    raise TtsError(f"unknown TTS engine {name!r} (known: {', '.join(TTS_ENGINES)})", "tts")


def sentences(text: str) -> list[str]:
    """Split at sentence ends so each model call stays short."""
    return [s.strip() for s in re.split(r"(?<=[。！？!?；;\n])", text) if s.strip()]


def check_text(text: str, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise TtsError("empty text to synthesize", where)
    return text.strip()


def yao_for_g2p(text: str) -> str:
    """The digit one read "yāo" is written 么, which Simplified G2P reads "me"
    (as in 什么); 幺 is unambiguous. Simplified 什么/怎么/这么/那么/多么/要么 keep 么."""
    return re.sub(r"(?<![什怎这這那多要])么", "幺", text)
