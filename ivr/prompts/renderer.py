"""Turn ``Say`` actions into PCM: a recorded file when the flow has one, else TTS.

There is no Taiwanese (nan-TW) voice in any engine we can ship, so a nan-TW
prompt without a recording is read from its text by the Mandarin voice; it is
understandable to most Taiwanese callers but sounds wrong, so the renderer
warns once per prompt key to tell flow designers which recordings are missing.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from ivr.frames import LANGUAGES, AudioFrame, Say
from ivr.log import get_logger
from ivr.prompts.cache import TtsCache, cache_key
from ivr.prompts.clauses import clauses
from ivr.prompts.clips import has_number_clips, number_clips
from ivr.prompts.engine import DEFAULT_TTS, TtsEngine, load_tts
from ivr.prompts.errors import PromptError
from ivr.prompts.verbalize_nan import verbalize_amount_nan
from ivr.prompts.verbalize_zh import verbalize_amount_zh
from ivr.prompts.wavio import read_wav, resample

log = get_logger(__name__)

SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)


class SayRenderer(Protocol):
    """What a call session needs of the prompts room (``PromptRenderer`` is one)."""

    def render(self, say: Say, sample_rate: int) -> np.ndarray:
        """Mono int16 samples of the prompt at ``sample_rate``."""
        ...


class PromptRenderer:
    """``tts``: an engine or its name (loaded lazily: cached prompts never load it).
    ``cache_dir``: synthesized-audio cache keyed by engine, voice, settings, text and rate
    (default ``~/.cache/ivr/tts`` or $IVR_TTS_CACHE).
    ``clips_dir``: recorded number clips (``<clips_dir>/nan-TW/num/*.wav``).
    ``audio_dir``: base for relative recording paths in ``Say.audio``."""

    def __init__(self, tts: TtsEngine | str | None = None, cache_dir: str | Path | None = None,
                 clips_dir: str | Path | None = None, audio_dir: str | Path | None = None) -> None:
        self.tts: TtsEngine = load_tts(tts or DEFAULT_TTS) if tts is None or isinstance(tts, str) else tts
        self.cache = TtsCache(cache_dir)
        self.clips_dir = Path(clips_dir) if clips_dir is not None else None
        self.audio_dir = Path(audio_dir) if audio_dir is not None else None
        self._warned: set[str] = set()
        self._recordings: dict[tuple[str, float, int], np.ndarray] = {}
        self._lock = threading.Lock()

    # -- public ---------------------------------------------------------
    def render(self, say: Say, sample_rate: int) -> np.ndarray:
        """Mono int16 at ``sample_rate``."""
        _check(say.language, sample_rate, f"prompt {say.key}")
        if say.audio:
            path = self._resolve(say.audio)
            if path.is_file():
                return self._recording(path, sample_rate)
            if not say.text.strip():
                raise PromptError(f"recording for prompt {say.key!r} not found", str(path))
            self._warn_once(f"missing:{say.key}", "recording %s for prompt %s missing; synthesizing its text",
                            path, say.key)
        if not say.text.strip():
            raise PromptError(f"prompt {say.key!r} has neither audio nor text", f"prompt {say.key}")
        return self.render_text(say.text, say.language, sample_rate, key=say.key)

    def render_parts(self, say: Say, sample_rate: int) -> Iterator[np.ndarray]:
        """The prompt in pieces to play one after another, each synthesized
        when it is asked for: clause by clause for a text not in the cache (a
        sentence made at call time: the first audio leaves after its first
        clause, the rest synthesizes while it plays), whole for a recording
        or a cached text (pre-warmed prompts stay one piece)."""
        if not self.in_parts(say, sample_rate):
            yield self.render(say, sample_rate)
            return
        _check(say.language, sample_rate, f"prompt {say.key}")
        for part in clauses(say.text):
            yield self.render_text(part, say.language, sample_rate, key=say.key)

    def in_parts(self, say: Say, sample_rate: int) -> bool:
        """Whether ``render_parts`` cuts this prompt (a text of two clauses or
        more, not in the cache, no recording)."""
        if say.audio or not say.text.strip() or len(clauses(say.text)) < 2:
            return False
        return not self.is_cached(say.text, sample_rate)

    def render_frames(self, say: Say, sample_rate: int, ms: int = 20) -> list[AudioFrame]:
        """The rendered prompt cut into ``ms`` frames (last one zero-padded)."""
        pcm = self.render(say, sample_rate)
        n = sample_rate * ms // 1000
        pad = (-len(pcm)) % n
        pcm = np.concatenate([pcm, np.zeros(pad, np.int16)]) if pad else pcm
        return [AudioFrame.from_array(pcm[i:i + n], sample_rate, i / sample_rate) for i in range(0, len(pcm), n)]

    def render_text(self, text: str, language: str, sample_rate: int, key: str | None = None) -> np.ndarray:
        _check(language, sample_rate, f"prompt {key or text[:20]}")
        if not text.strip():
            raise PromptError("empty text to render", f"prompt {key or ''}")
        if language == "nan-TW":
            self._warn_once(f"nan:{key or text}", "no Taiwanese voice: prompt %s read by the Mandarin voice %s/%s",
                            key or "(text)", self.tts.name, self.tts.voice)
        k = self._key(text, sample_rate)
        hit = self.cache.get(k, sample_rate)
        if hit is not None:
            return hit
        samples, rate = self.tts.synthesize(text)
        out = resample(samples, rate, sample_rate)
        self.cache.put(k, out, sample_rate)
        return out

    def render_amount(self, value: object, language: str, sample_rate: int) -> np.ndarray:
        """An amount of money: Taiwanese from recorded number clips when ``clips_dir``
        has them, else the verbalized text through TTS."""
        if language == "nan-TW":
            if self.clips_dir is not None and has_number_clips(self.clips_dir, language):
                return number_clips(value, self.clips_dir, sample_rate, language=language)
            return self.render_text(verbalize_amount_nan(value), language, sample_rate, key="amount")
        return self.render_text(verbalize_amount_zh(value), language, sample_rate, key="amount")

    def is_cached(self, text: str, sample_rate: int) -> bool:
        return self.cache.path(self._key(text, sample_rate)).is_file()

    def prewarm(self, texts: Iterable[str], sample_rates: Iterable[int] = (8000, 16000)) -> int:
        """Synthesize every text not yet cached (e.g. all prompts of the flows at
        deploy time). Returns how many were synthesized."""
        made = 0
        for text in dict.fromkeys(t for t in texts if t and t.strip()):
            for rate in sample_rates:
                if not self.is_cached(text, rate):
                    self.render_text(text, "zh-TW", rate)
                    made += 1
        return made

    # -- internals ------------------------------------------------------
    def _key(self, text: str, sample_rate: int) -> str:
        voice = self.tts.voice + "|" + str(getattr(self.tts, "variant", ""))
        return cache_key(self.tts.name, voice, text, sample_rate)

    def _resolve(self, audio: str) -> Path:
        p = Path(audio)
        return p if p.is_absolute() or self.audio_dir is None else self.audio_dir / p

    def _recording(self, path: Path, sample_rate: int) -> np.ndarray:
        k = (str(path.resolve()), path.stat().st_mtime, sample_rate)
        with self._lock:
            hit = self._recordings.get(k)
        if hit is not None:
            return hit
        samples, rate = read_wav(path)
        out = resample(samples, rate, sample_rate)
        out.setflags(write=False)  # shared between calls
        with self._lock:
            self._recordings[k] = out
        return out

    def _warn_once(self, key: str, msg: str, *args: object) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        log.warning(msg, *args)


def _check(language: str, sample_rate: int, where: str) -> None:
    if language not in LANGUAGES:
        raise PromptError(f"unknown language {language!r} (want one of {', '.join(LANGUAGES)})", where)
    if sample_rate not in SAMPLE_RATES:
        raise PromptError(f"unsupported sample rate {sample_rate} (want 8000 or 16000)", where)
