"""Taiwanese numbers from recorded clips: one WAV per word, concatenated.

Layout: ``<clips_dir>/<language>/num/<name>.wav`` with names 0..10 for the
digits and ten, and 兩 百 千 萬 億 元 角 分 負 for the rest. 兩 (nn̄g) and 二 (jī)
are different words in Taiwanese; without a 兩 clip, 2 is used.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ivr.prompts.errors import PromptError, VerbalizeError
from ivr.prompts.verbalize_nan import verbalize_amount_nan, verbalize_number_nan
from ivr.prompts.wavio import read_wav, resample

_CLIP_OF = {
    "空": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
    "六": "6", "七": "7", "八": "8", "九": "9", "十": "10", "箍": "元",
}
_FALLBACK = {"兩": "2"}


def clip_names(text: str) -> list[str]:
    """Clip names for a Taiwanese number text (from ``verbalize_*_nan``)."""
    return [_CLIP_OF.get(ch, ch) for ch in text]


def clip_path(clips_dir: str | Path, language: str, name: str) -> Path:
    return Path(clips_dir) / language / "num" / f"{name}.wav"


def has_number_clips(clips_dir: str | Path | None, language: str = "nan-TW") -> bool:
    return clips_dir is not None and clip_path(clips_dir, language, "0").is_file()


def concat_clips(paths: list[Path], sample_rate: int, gap_ms: int = 60) -> np.ndarray:
    """Clips resampled to ``sample_rate`` with ``gap_ms`` of silence between them."""
    gap = np.zeros(int(sample_rate * gap_ms / 1000), dtype=np.int16)
    parts: list[np.ndarray] = []
    for i, p in enumerate(paths):
        x, rate = read_wav(p)
        if i:
            parts.append(gap)
        parts.append(resample(x, rate, sample_rate))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def _resolve(clips_dir: str | Path, language: str, names: list[str]) -> list[Path]:
    out = []
    for name in names:
        p = clip_path(clips_dir, language, name)
        if not p.is_file() and name in _FALLBACK:
            p = clip_path(clips_dir, language, _FALLBACK[name])
        if not p.is_file():
            raise PromptError(f"missing number clip {name!r}", str(p))
        out.append(p)
    return out


def number_clips(value: object, clips_dir: str | Path, sample_rate: int, *, language: str = "nan-TW",
                 currency: bool = True, gap_ms: int = 60) -> np.ndarray:
    """Say a number (``currency``: an amount ending in 元) from recorded clips."""
    if currency:
        text = verbalize_amount_nan(value)
    else:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise VerbalizeError(f"not an integer: {value!r}", "cardinal")  # as ivr.prompts.numbers.cardinal says it
        text = verbalize_number_nan(value)
    return concat_clips(_resolve(clips_dir, language, clip_names(text)), sample_rate, gap_ms)
