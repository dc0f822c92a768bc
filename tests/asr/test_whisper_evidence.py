"""Whisper's evidence about a turn (bench/whisper_evidence.py) on real speech:
Taiwanese is not taken for Mandarin, Mandarin is, noise is not speech."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ivr.audio.wav import read_wav

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from whisper_evidence import FEATURES, turn_evidence  # bench tooling, not the product


def _clip(shared_dir, folder: str, name: str, seconds: float = 2.0) -> tuple[np.ndarray, int]:
    path = shared_dir / "data" / folder / name
    if not path.is_file():
        pytest.skip(f"needs {path}")
    x, rate = read_wav(path)
    return x[: int(rate * seconds)], rate


def test_taiwanese_clip_is_speech_but_not_mandarin(whisper_engine, shared_dir):
    x, rate = _clip(shared_dir, "taiwanese-real", "1.wav")
    ev = turn_evidence(whisper_engine, x, rate)
    assert set(ev) == set(FEATURES)
    assert all(np.isfinite(v) for v in ev.values())
    assert 0.0 <= ev["w_no_speech"] <= 1.0 and 0.0 <= ev["w_zh"] <= 1.0
    assert ev["w_no_speech"] < 0.5
    assert ev["w_zh"] < 0.5  # Whisper does not hear Tâi-gí as Chinese (Mandarin)


def test_mandarin_clip_is_fluent_chinese(whisper_engine, shared_dir):
    tw = turn_evidence(whisper_engine, *_clip(shared_dir, "taiwanese-real", "1.wav"))
    zh = turn_evidence(whisper_engine, *_clip(shared_dir, "mandarin-real", "fr_BAC009S0764W0121.wav"))
    assert zh["w_zh"] > 0.9
    assert zh["w_logprob"] > tw["w_logprob"]
    assert zh["w_lang_entropy"] < tw["w_lang_entropy"]


def test_telephone_rate_is_resampled(whisper_engine, shared_dir):
    from ivr.asr.phrase_eval import telephone

    x, rate = _clip(shared_dir, "mandarin-real", "fr_BAC009S0764W0121.wav")
    y, rate8 = telephone(x, rate)
    assert rate8 == 8000
    assert turn_evidence(whisper_engine, y, rate8)["w_zh"] > 0.5


def test_noise_and_a_too_short_turn_are_not_speech(whisper_engine):
    noise = np.random.default_rng(0).normal(0, 300, 24000).astype(np.int16)
    ev = turn_evidence(whisper_engine, noise)
    assert ev["w_no_speech"] > 0.5
    short = turn_evidence(whisper_engine, noise[:800])
    assert short["w_no_speech"] == 1.0 and short["w_zh"] == 0.0
