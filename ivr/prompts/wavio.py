"""WAV reading/writing and resampling for prompts.

Prefers ``ivr.audio`` (the audio room's reader handles μ-law/A-law and more
formats); falls back to the stdlib ``wave`` module and scipy so prompts work
even where the audio room is not importable.
"""
from __future__ import annotations

import wave
from math import gcd
from pathlib import Path

import numpy as np

from ivr.errors import AudioFormatError


def _audio_room(name: str):
    """``ivr.audio.<name>`` when the audio room exports it as a function, else None."""
    try:
        import ivr.audio as audio
    except ImportError:
        return None
    fn = getattr(audio, name, None)
    return fn if callable(fn) else None


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono int16 samples and their rate."""
    audio_read_wav = _audio_room("read_wav")
    if audio_read_wav is not None:
        return audio_read_wav(path)
    return _read_wav_stdlib(Path(path))


def _read_wav_stdlib(path: Path) -> tuple[np.ndarray, int]:
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError:
        raise AudioFormatError("file not found", str(path)) from None
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"not a readable WAV ({exc})", str(path)) from None
    if width != 2:
        raise AudioFormatError(f"{8 * width}-bit WAV; need 16-bit PCM", str(path))
    x = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels).mean(axis=1)
    return np.asarray(x, dtype=np.int16), rate


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """int16 in, int16 out."""
    if src == dst:
        return np.asarray(x, dtype=np.int16)
    audio_resample = _audio_room("resample")
    if audio_resample is not None:
        return np.asarray(audio_resample(np.asarray(x, dtype=np.int16), src, dst), dtype=np.int16)
    from scipy.signal import resample_poly

    g = gcd(int(src), int(dst))
    y = resample_poly(np.asarray(x, dtype=np.float64), dst // g, src // g)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def float_to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(x, dtype=np.float32), -1.0, 1.0) * 32767).astype(np.int16)
