"""Taiwanese number words and number clips (synthetic tone clips, one
frequency per word, so order and lengths can be read back)."""
import numpy as np
import pytest

from ivr.prompts import (
    PromptError,
    clip_names,
    number_clips,
    verbalize_amount_nan,
    verbalize_digits_nan,
    verbalize_number_nan,
)
from ivr.prompts.wavio import write_wav

CLIP_RATE = 16000
NAMES = [str(i) for i in range(11)] + ["兩", "百", "千", "萬", "億", "元", "角", "分", "負"]


@pytest.mark.parametrize("n,text", [
    (0, "空"), (2, "二"), (10, "十"), (12, "十二"), (105, "一百空五"), (1230, "一千兩百三十"),
    (2000, "兩千"), (10010, "一萬空一十"), (20000, "兩萬"), (-3, "負三"),
])
def test_number_words(n, text):
    assert verbalize_number_nan(n) == text


@pytest.mark.parametrize("value,text", [
    (1230, "一千兩百三十箍"), (2, "兩箍"), (0, "空箍"), ("12.5", "十二箍五角"), ("12.05", "十二箍空五分"),
    (0.5, "五角"), (-100, "負一百箍"), ("3,005", "三千空五箍"),
])
def test_amount_words(value, text):
    assert verbalize_amount_nan(value) == text


def test_digits_nan():
    assert verbalize_digits_nan("0912") == "空九一二"


def test_clip_names_map_words_to_files():
    assert clip_names("一千兩百三十箍") == ["1", "千", "兩", "百", "3", "10", "元"]
    assert clip_names("一百空五") == ["1", "百", "0", "5"]


def _freq(name: str) -> float:
    return 300.0 + 40.0 * NAMES.index(name)


def _length(name: str) -> int:
    # distinct lengths too, so a swapped clip shows up in the lengths
    return int(CLIP_RATE * (0.15 + 0.01 * NAMES.index(name)))


@pytest.fixture()
def clips_dir(tmp_path):
    d = tmp_path / "nan-TW" / "num"
    d.mkdir(parents=True)
    for name in NAMES:
        t = np.arange(_length(name)) / CLIP_RATE
        write_wav(d / f"{name}.wav", (8000 * np.sin(2 * np.pi * _freq(name) * t)).astype(np.int16), CLIP_RATE)
    return tmp_path


def _segments(x: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """Runs of tone: a 4 ms moving average of |x| above a tenth of the tone's level."""
    win = rate * 4 // 1000
    env = np.convolve(np.abs(x.astype(float)), np.ones(win) / win, mode="same")
    voiced = env > 500
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2], strict=True))


def _dominant(seg: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    return float(np.fft.rfftfreq(len(seg), 1 / rate)[np.argmax(spec)])


@pytest.mark.parametrize("rate", [8000, 16000])
def test_amount_from_clips_in_order(clips_dir, rate):
    gap_ms = 60
    x = number_clips(1230, clips_dir, rate, gap_ms=gap_ms)
    expected = ["1", "千", "兩", "百", "3", "10", "元"]
    segs = _segments(x, rate)
    assert len(segs) == len(expected)
    for (a, b), name in zip(segs, expected, strict=True):
        assert abs((b - a) - _length(name) * rate / CLIP_RATE) <= rate * 0.005
        assert abs(_dominant(x[a:b].astype(float), rate) - _freq(name)) < 15
    gaps = [segs[i + 1][0] - segs[i][1] for i in range(len(segs) - 1)]
    assert all(abs(g - rate * gap_ms / 1000) <= rate * 0.005 for g in gaps)


def test_plain_number_and_fallback_for_liang(clips_dir):
    (clips_dir / "nan-TW" / "num" / "兩.wav").unlink()
    x = number_clips(200, clips_dir, 16000, currency=False)
    segs = _segments(x, 16000)
    names = ["2", "百"]  # no 兩 clip: 二 stands in
    assert [round(_dominant(x[a:b].astype(float), 16000)) for a, b in segs] == pytest.approx(
        [_freq(n) for n in names], abs=15)


def test_missing_clip_names_the_file(clips_dir):
    (clips_dir / "nan-TW" / "num" / "千.wav").unlink()
    with pytest.raises(PromptError) as e:
        number_clips(1230, clips_dir, 8000)
    assert "千.wav" in str(e.value) and "missing number clip" in str(e.value)
