"""The noise front end (ivr.audio.denoise) on real Mandarin recordings with
steady noise added at a known SNR, so the clean reference is known."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivr.audio import read_wav, resample, ulaw_decode, ulaw_encode
from ivr.audio.denoise import Denoiser, denoise, estimate_noise
from ivr.errors import AudioFormatError

CLIPS = ("fr_BAC009S0764W0121.wav", "fr_TEST_NET.wav")


def pink(n: int, seed: int) -> np.ndarray:
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.arange(spec.size, dtype=float)
    f[0] = 1.0
    return np.fft.irfft(spec / np.sqrt(f), n)


def with_noise(x: np.ndarray, snr_db: float, seed: int = 7, white: bool = False) -> np.ndarray:
    xf = x.astype(np.float64)
    noise = np.random.default_rng(seed).standard_normal(x.size) if white else pink(x.size, seed)
    active = xf[np.abs(xf) > 0.05 * np.abs(xf).max()]
    noise *= np.sqrt(np.mean(active ** 2) / 10 ** (snr_db / 10) / np.mean(noise ** 2))
    return np.clip(xf + noise, -32768, 32767).astype(np.int16)


def snr(ref: np.ndarray, y: np.ndarray) -> float:
    c, v = ref.astype(np.float64), y.astype(np.float64)
    a = np.dot(c, v) / np.dot(c, c)  # gain-matched: a front end may scale the speech a little
    return float(10 * np.log10(np.sum((a * c) ** 2) / np.sum((v - a * c) ** 2)))


def telephone(path: Path) -> np.ndarray:
    """The clip over a mu-law line as a call turn reaches the recognizer: with the
    session's 0.3 s pre-roll before the words and the end-of-turn silence after
    (the front end learns the line's noise from them; fr_TEST_NET has no pause)."""
    x, rate = read_wav(path)
    x = resample(x, rate, 8000)
    x = np.concatenate([np.zeros(2400, np.int16), x, np.zeros(4000, np.int16)])
    return ulaw_decode(ulaw_encode(x))


# (clip, least SNR gain in dB): clips whose own recording is clean (fr_TEST_MEETING's is a noisy
# room, so it is no reference); fr_TEST_NET is words end to end, with little to gate between them
GAINS = [("fr_BAC009S0764W0121.wav", 3.0), ("fr_IT0011W0001.wav", 3.0), ("wenet_BAC009S0724W0121.wav", 3.0),
         ("fr_TEST_NET.wav", 0.5)]


@pytest.mark.parametrize(("name", "least"), GAINS)
@pytest.mark.parametrize("snr_db", [10.0, 5.0])
def test_noisy_real_speech_gets_cleaner(mandarin_real, name, least, snr_db):
    clean = telephone(mandarin_real / name)
    noisy = with_noise(clean, snr_db)
    est = estimate_noise(noisy, 8000)
    # the turn's own SNR is read close to the truth (its loudest fifth, a little above the mean of its words)
    assert -2.0 < est.snr_db - snr_db < 4.0, est.snr_db
    out = denoise(noisy, 8000)
    assert out.dtype == np.int16 and out.shape == noisy.shape
    gain = snr(clean, out) - snr(clean, noisy)
    assert gain > least, f"SNR {snr(clean, noisy):.1f} -> {snr(clean, out):.1f} dB"


def test_white_hiss_at_16k_is_gated_too(mandarin_real):
    x, rate = read_wav(mandarin_real / CLIPS[0])
    clean = resample(x, rate, 16000)
    noisy = with_noise(clean, 10.0, white=True)
    assert snr(clean, denoise(noisy, 16000)) - snr(clean, noisy) > 3.0


@pytest.mark.parametrize("rate", [8000, 16000])
def test_silence_stays_silence(rate):
    zeros = np.zeros(rate, np.int16)
    assert not np.any(denoise(zeros, rate))
    # a line with nothing on it but hiss is not made louder, nor turned into bursts
    hiss = with_noise(np.full(rate, 1000, np.int16), 0.0)[: rate] - 1000
    hiss = hiss.astype(np.int16)
    out = denoise(hiss, rate)
    assert np.sqrt(np.mean(out.astype(np.float64) ** 2)) <= np.sqrt(np.mean(hiss.astype(np.float64) ** 2))
    assert np.abs(out).max() <= np.abs(hiss).max()


@pytest.mark.parametrize("name", ["fr_BAC009S0764W0121.wav", "fr_IT0011W0001.wav", "fr_TEST_NET.wav"])
def test_clean_speech_passes_untouched(mandarin_real, name):
    tel = telephone(mandarin_real / name)
    for audio, r in ((resample(tel, 8000, 16000), 16000), (tel, 8000)):
        assert estimate_noise(audio, r).snr_db > 25.0
        out = denoise(audio, r)
        assert out is audio  # gated off: the very same samples reach the recognizer


@pytest.mark.xfail(strict=True, reason="a turn that is speech from its first to its last frame (no pre-roll, "
                   "no end silence) gives the front end no line to learn the noise from: it reads the "
                   "quietest speech as noise (fr_TEST_NET: 3 dB). A call's turns always carry both.")
def test_continuous_speech_without_line_passes_untouched(mandarin_real):
    x, rate = read_wav(mandarin_real / "fr_TEST_NET.wav")
    x16 = resample(x, rate, 16000)
    assert denoise(x16, 16000) is x16


def test_mild_noise_below_the_gate_passes_with_small_change(mandarin_real):
    clean = telephone(mandarin_real / CLIPS[0])
    noisy = with_noise(clean, 17.0)
    out = Denoiser(gate_db=30.0)(noisy, 8000)  # forced on
    assert out is not noisy
    assert snr(clean, out) >= snr(clean, noisy)  # made no worse
    # the speech itself comes through: its loud part keeps its level within 2 dB
    loud = np.abs(clean) > 0.3 * np.abs(clean).max()
    ratio = np.sqrt(np.mean(out[loud].astype(float) ** 2) / np.mean(noisy[loud].astype(float) ** 2))
    assert abs(20 * np.log10(ratio)) < 2.0


def test_short_turn_is_returned_as_is():
    x = (np.random.default_rng(1).standard_normal(400) * 3000).astype(np.int16)
    assert denoise(x, 8000) is x


@pytest.mark.parametrize("x, rate, says", [
    (np.zeros(8000, np.float32), 8000, "expected int16 samples, got float32"),
    (np.zeros((2, 8000), np.int16), 8000, "expected a 1-D sample array"),
    (np.zeros(8000, np.int16), 1000, "sample rate 1000 Hz unsupported"),
    ([0] * 8000, 8000, "expected a 1-D sample array, got list"),
])
def test_bad_input_is_one_clear_line(x, rate, says):
    with pytest.raises(AudioFormatError) as e:
        denoise(x, rate)
    msg = str(e.value)
    assert says in msg and "\n" not in msg and msg.startswith("denoise:")


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="floor_db < 0"):
        Denoiser(floor_db=3.0)
