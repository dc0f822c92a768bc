"""bench/plc.py, the packet loss concealment measured against silence: a lost
20 ms frame is filled from the voice before it, fades with a longer loss, and
joins the next frame smoothly (so the measurement compared a working one)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from plc import MAX_MS, Concealer

RATE, FRAME = 8000, 160


def _voice(seconds: float, f0: float = 125.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return (6000 * x / np.max(np.abs(x))).astype(np.int16)


def _feed(c: Concealer, x: np.ndarray) -> None:
    for i in range(0, x.size, FRAME):
        c.good(x[i:i + FRAME])


def test_a_lost_frame_continues_the_voice() -> None:
    x = _voice(1.0)
    c = Concealer(RATE, FRAME)
    _feed(c, x[:3200])
    filled = c.lost().astype(np.float64)
    truth = x[3200:3360].astype(np.float64)
    # a periodic voice repeated by its pitch period: close to what was lost, far from silence
    err = np.sqrt(np.mean((filled - truth) ** 2))
    assert np.sqrt(np.mean(filled ** 2)) > 0.5 * np.sqrt(np.mean(truth ** 2))
    assert err < 0.5 * np.sqrt(np.mean(truth ** 2))


def test_a_long_loss_fades_to_silence() -> None:
    c = Concealer(RATE, FRAME)
    _feed(c, _voice(0.2))
    levels = [float(np.sqrt(np.mean(c.lost().astype(np.float64) ** 2))) for _ in range(MAX_MS // 20 + 2)]
    assert levels[0] > levels[1] > levels[2] >= 0
    assert levels[-1] == 0.0 and levels[-2] == 0.0


def test_no_voice_before_the_loss_gives_silence() -> None:
    c = Concealer(RATE, FRAME)
    assert not c.lost().any()
    c.good(np.zeros(FRAME, np.int16))
    assert not c.lost().any()


def test_the_frame_after_a_loss_is_joined_without_a_click() -> None:
    x = _voice(1.0)
    c = Concealer(RATE, FRAME)
    _feed(c, x[:3200])
    lost = c.lost()
    after = c.good(x[3360:3520])
    jump = abs(int(after[0]) - int(lost[-1]))
    raw_jump = abs(int(x[3360]) - int(lost[-1]))
    assert jump <= raw_jump
    assert np.array_equal(after[40:], x[3400:3520])  # only the first few ms are blended
    # a frame that arrives without a loss before it is played as it came
    assert np.array_equal(c.good(x[3520:3680]), x[3520:3680])
