"""Disk cache of synthesized prompts.

Keyed by sha256(engine, voice, text, rate) so a change of any of them makes a
new entry (the renderer puts the engine's sound-changing settings, such as
speed, into the voice part); entries are plain 16-bit WAVs written atomically (temp file +
rename), so several call workers can share one directory.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from ivr.errors import AudioFormatError
from ivr.log import get_logger
from ivr.prompts.wavio import read_wav, write_wav

log = get_logger(__name__)


def default_cache_dir() -> Path:
    from ivr.paths import cache_home

    base = os.environ.get("IVR_TTS_CACHE")
    return Path(base) if base else cache_home() / "tts"


def cache_key(engine: str, voice: str, text: str, rate: int) -> str:
    blob = "\x1f".join((engine, voice, text, str(int(rate)))).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


class TtsCache:
    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.wav"

    def get(self, key: str, rate: int) -> np.ndarray | None:
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            samples, got = read_wav(p)
        except AudioFormatError as exc:
            # a torn or foreign file: resynthesize rather than fail the call
            log.warning("tts cache entry unreadable, ignoring: %s", exc)
            return None
        return samples if got == rate else None

    def put(self, key: str, samples: np.ndarray, rate: int) -> Path:
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
        os.close(fd)
        try:
            write_wav(tmp, samples, rate)
            os.replace(tmp, p)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return p
