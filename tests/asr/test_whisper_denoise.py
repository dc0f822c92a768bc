"""The noise front end on the Whisper call path (WhisperEngine(denoise=True)):
clean fixture turns reach the decoder untouched, a noisy turn is gated
before decoding, and the engine default stays off (it did not pay on the
issue-11 dev set: bench/results/noise_frontend_dev.json)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivr.audio import read_wav, resample
from ivr.audio.denoise import Denoiser

FIXTURES = Path(__file__).resolve().parents[2] / "audio_fixtures"
# fixtures recorded or made noisy on purpose: the front end may act on them
NOISY = {"zh_agent_real.wav", "zh_balance_noisy.wav", "zh_card_loss_noisy.wav", "zh_mumble.wav", "zh_yes_noisy.wav"}


def test_clean_fixtures_pass_untouched():
    dn = Denoiser()
    clean = [p for p in sorted(FIXTURES.rglob("*.wav")) if p.name not in NOISY]
    assert len(clean) >= 20
    for p in clean:
        x, rate = read_wav(p)
        x16 = resample(x, rate, 16000)
        assert dn(x16, 16000) is x16, p.name


def test_the_noisy_fixtures_are_gated():
    dn = Denoiser()
    x, rate = read_wav(FIXTURES / "audio" / "zh_card_loss_noisy.wav")
    x16 = resample(x, rate, 16000)
    assert dn(x16, 16000) is not x16


def test_engine_runs_its_front_end_before_decoding(whisper_engine, monkeypatch):
    seen: list[int] = []

    def front_end(x: np.ndarray, rate: int) -> np.ndarray:
        seen.append(x.size)
        return np.zeros_like(x)  # a turn made silent: Whisper must then hear nothing

    x, rate = read_wav(FIXTURES / "audio" / "zh_balance_noisy.wav")
    assert whisper_engine.front_end is None  # off by default
    monkeypatch.setattr(whisper_engine, "front_end", front_end)
    rec = whisper_engine.recognizer(sample_rate=rate)
    rec.accept(x.astype("<i2").tobytes())
    heard = rec.finish().text
    assert seen == [x.size * 2] and heard == ""  # the 16 kHz turn went through it


@pytest.mark.parametrize("name", ["zh_balance_noisy.wav", "zh_card_loss_noisy.wav"])
def test_noisy_fixture_decodes_with_the_front_end_on(whisper_engine, monkeypatch, name):
    x, rate = read_wav(FIXTURES / "audio" / name)
    monkeypatch.setattr(whisper_engine, "front_end", Denoiser())
    rec = whisper_engine.recognizer(sample_rate=rate)
    rec.accept(x.astype("<i2").tobytes())
    assert rec.finish().text.strip()  # still words, not nothing: the speech survives the gating
