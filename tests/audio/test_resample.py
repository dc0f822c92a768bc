import numpy as np
import pytest

from ivr.audio import Resampler, resample


def tone(freq: float, rate: int, seconds: float, amp: float = 10000.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.rint(amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def level_db(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return 10 * np.log10(np.mean(x * x) + 1e-12)


def steady(x: np.ndarray, rate: int) -> np.ndarray:
    """Drop 50 ms at each end, where the filter sees the signal's edges."""
    k = rate // 20
    return x[k:-k]


@pytest.mark.parametrize("src,dst", [(8000, 16000), (16000, 8000)])
def test_1khz_tone_keeps_its_level(src, dst):
    x = tone(1000, src, 1.0, amp=12000)
    y = resample(x, src, dst)
    assert len(y) == len(x) * dst // src
    assert abs(level_db(steady(y, dst)) - level_db(steady(x, src))) <= 0.5


def test_1khz_tone_keeps_its_phase():
    # delay is compensated: the output lines up with an ideal 16 kHz tone
    y = resample(tone(1000, 8000, 1.0, amp=12000), 8000, 16000)
    ideal = tone(1000, 16000, 1.0, amp=12000)
    assert np.abs(steady(y, 16000).astype(int) - steady(ideal, 16000)).max() < 60


def test_6khz_is_removed_going_to_8khz():
    x = tone(6000, 16000, 1.0, amp=12000)
    y = resample(x, 16000, 8000)
    assert level_db(steady(x, 16000)) - level_db(steady(y, 8000)) >= 40


@pytest.mark.parametrize("src,freq", [(44100, 9000), (48000, 11000), (48000, 5000)])
def test_wideband_input_is_antialiased(src, freq):
    x = tone(freq, src, 0.5, amp=12000)
    for dst in (16000, 8000):
        if freq < dst / 2 * 0.85:
            continue  # in band: must survive, checked below
        y = resample(x, src, dst)
        assert level_db(steady(x, src)) - level_db(steady(y, dst)) >= 40, (src, dst, freq)


@pytest.mark.parametrize("src,dst", [(44100, 16000), (48000, 8000), (48000, 16000)])
def test_wideband_input_keeps_1khz(src, dst):
    x = tone(1000, src, 0.5, amp=12000)
    y = resample(x, src, dst)
    assert abs(len(y) - len(x) * dst / src) <= 1
    assert abs(level_db(steady(y, dst)) - level_db(steady(x, src))) <= 0.5


@pytest.mark.parametrize("src,dst", [(8000, 16000), (16000, 8000), (44100, 16000), (48000, 8000)])
def test_streaming_equals_one_shot(src, dst):
    rng = np.random.default_rng(src + dst)
    x = rng.integers(-20000, 20000, src).astype(np.int16)
    r = Resampler(src, dst)
    parts, i = [], 0
    sizes = [1, 3, 160, 7, 320, 0, 999, 2]
    while i < len(x):
        n = sizes[len(parts) % len(sizes)]
        parts.append(r.process(x[i:i + n]))
        i += n
    parts.append(r.flush())
    assert np.array_equal(np.concatenate(parts), resample(x, src, dst))


def test_same_rate_is_identity():
    x = np.arange(-50, 50, dtype=np.int16)
    assert np.array_equal(resample(x, 8000, 8000), x)
    assert np.array_equal(Resampler(16000, 16000).process(x), x)


def test_loud_input_clips_instead_of_wrapping():
    x = np.where(np.arange(800) % 40 < 20, 32767, -32768).astype(np.int16)  # a square wave overshoots
    y = resample(x, 8000, 16000)
    assert y.max() == 32767 and y.min() == -32768
    assert np.all(np.sign(y[100:-100:40].astype(int)) != 0)
