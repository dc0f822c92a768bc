"""In-band DTMF: detection per ITU-T Q.24 and a tone generator.

Detection evaluates 20 ms windows every 10 ms (so any tone of >= 40 ms fills
at least two whole windows whatever its alignment to the frames). For each
window the eight DTMF frequencies and their second harmonics are measured in
one matrix product (the Goertzel power of each frequency, for all of them at
once). A window holds a digit only if:

* the strongest row and column tone are each above ``min_level_dbm``;
* twist (column level minus row level) is within -8 dB (normal) / +4 dB (reverse);
* each is >= 6 dB above every other tone of its group;
* neither tone's second harmonic is within 20 dB of it (speech has harmonics);
* fitted as a steady tone pair, it explains >= 85 % of the window's energy
  (speech, noise and a tone that fills only part of the window do not).

A key press is reported once, when the same digit holds in two consecutive
windows (>= 30 ms of tone); it must then be absent for two windows before the
same key can count again, so a noisy tone is not split into two presses.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ivr.frames import AudioFrame, DtmfDigit

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
_FREQ = {KEYPAD[r][c]: (ROWS[r], COLS[c]) for r in range(4) for c in range(4)}

# G.711 reference: a full-scale sine is +3.17 dBm0.
_FULL_SCALE_DBM0 = 3.17


def dbm0_to_amplitude(level_dbm: float) -> float:
    """Peak amplitude (int16 scale) of a sine at ``level_dbm`` dBm0."""
    return 32768.0 * 10 ** ((level_dbm - _FULL_SCALE_DBM0) / 20)


def dtmf_tones(digits: str, rate: int, level_dbm: float = -10.0, tone_ms: int = 80, gap_ms: int = 80) -> np.ndarray:
    """int16 samples keying ``digits``: each digit a ``tone_ms`` tone pair (each
    tone at ``level_dbm`` dBm0), digits separated by ``gap_ms`` of silence."""
    amp = dbm0_to_amplitude(level_dbm)
    n_tone = rate * tone_ms // 1000
    gap = np.zeros(rate * gap_ms // 1000)
    t = np.arange(n_tone) / rate
    parts: list[np.ndarray] = []
    for i, d in enumerate(digits.upper()):
        if d not in _FREQ:
            raise ValueError(f"dtmf_tones: {d!r} is not a DTMF digit")
        lo, hi = _FREQ[d]
        if i:
            parts.append(gap)
        parts.append(amp * (np.sin(2 * np.pi * lo * t) + np.sin(2 * np.pi * hi * t)))
    if not parts:
        return np.zeros(0, dtype=np.int16)
    return np.clip(np.rint(np.concatenate(parts)), -32768, 32767).astype(np.int16)


@lru_cache(maxsize=8)
def _pair_fits(rate: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of the 16 digits: the tone-pair basis B (n, 4) and its
    pseudo-inverse (4, n), to fit a window as exactly that tone pair."""
    t = np.arange(n) / rate
    bases, pinvs = [], []
    for r in ROWS:
        for c in COLS:
            b = np.stack([np.cos(2 * np.pi * r * t), np.sin(2 * np.pi * r * t),
                          np.cos(2 * np.pi * c * t), np.sin(2 * np.pi * c * t)], axis=1)
            bases.append(b)
            pinvs.append(np.linalg.pinv(b))
    return np.stack(bases), np.stack(pinvs)


@lru_cache(maxsize=8)
def _basis(rate: int, n: int) -> np.ndarray:
    """(n, 32): cos and sin columns for the 8 DTMF tones and their 8 second harmonics."""
    freqs = np.array(ROWS + COLS + tuple(2 * f for f in ROWS + COLS))
    ang = 2 * np.pi * np.outer(np.arange(n), freqs) / rate
    return np.ascontiguousarray(np.hstack([np.cos(ang), np.sin(ang)]))


class DtmfDetector:
    """``process(frame) -> list[DtmfDigit]`` (source "inband"); frames of any length."""

    def __init__(self, sample_rate: int, *, min_level_dbm: float = -36.0, normal_twist_db: float = 8.0,
                 reverse_twist_db: float = 4.0, min_tone_ratio: float = 0.85,
                 harmonic_db: float = 20.0, peak_db: float = 6.0) -> None:
        if sample_rate < 4000:
            raise ValueError(f"DtmfDetector: {sample_rate} Hz cannot carry DTMF")
        self.sample_rate = sample_rate
        self._n = sample_rate // 50  # 20 ms window
        self._hop = self._n // 2
        self._basis = _basis(sample_rate, self._n)
        self._pair_b, self._pair_pinv = _pair_fits(sample_rate, self._n)
        amp = dbm0_to_amplitude(min_level_dbm)
        self._min_power = amp * amp / 2
        self._twist_lo = 10 ** (-normal_twist_db / 10)
        self._twist_hi = 10 ** (reverse_twist_db / 10)
        self._ratio = min_tone_ratio
        self._harm = 10 ** (-harmonic_db / 10)
        self._peak = 10 ** (peak_db / 10)
        self.reset()

    def reset(self) -> None:
        self._tail = np.zeros(0, dtype=np.float64)
        self._candidate = ""
        self._run = 0
        self._run_start = 0.0
        self._reported = ""
        self._absent = 0

    @property
    def tone_present(self) -> bool:
        """The newest window held a valid DTMF tone pair (lets a caller keep
        key tones out of the speech endpointer)."""
        return bool(self._candidate)

    def classify(self, windows: np.ndarray) -> list[str]:
        """The digit each row of ``windows`` (k, n) holds, or "" for none."""
        n = windows.shape[1]
        proj = windows @ self._basis
        power = (proj[:, :16] ** 2 + proj[:, 16:] ** 2) * (2.0 / (n * n))
        total = np.einsum("ij,ij->i", windows, windows) / n
        rows, cols = power[:, :4], power[:, 4:8]
        r = rows.argmax(axis=1)
        c = cols.argmax(axis=1)
        idx = np.arange(len(windows))
        pr, pc = rows[idx, r], cols[idx, c]
        rows_other = np.where(np.arange(4) == r[:, None], 0.0, rows).max(axis=1)
        cols_other = np.where(np.arange(4) == c[:, None], 0.0, cols).max(axis=1)
        # Fit each window as exactly its candidate tone pair and look at what is
        # left: the residual's energy and second harmonics. (Measured on the raw
        # window, a column tone leaks into a nearby row harmonic, e.g. 1336 Hz
        # into 2 x 697 Hz = 1394 Hz.)
        key = r * 4 + c
        coef = np.einsum("kjn,kn->kj", self._pair_pinv[key], windows)
        resid = windows - np.einsum("knj,kj->kn", self._pair_b[key], coef)
        harm_cols = np.stack([self._basis[:, 8 + r], self._basis[:, 24 + r],
                              self._basis[:, 12 + c], self._basis[:, 28 + c]], axis=1)  # (n, 4, k)
        hp = np.einsum("kn,njk->kj", resid, harm_cols) ** 2 * (2.0 / (n * n))
        hr, hc = hp[:, 0] + hp[:, 1], hp[:, 2] + hp[:, 3]
        explained = 1.0 - np.einsum("ij,ij->i", resid, resid) / np.maximum(total * n, 1e-9)
        twist = pc / np.maximum(pr, 1e-12)
        ok = ((pr >= self._min_power) & (pc >= self._min_power)
              & (twist >= self._twist_lo) & (twist <= self._twist_hi)
              & (pr >= self._peak * rows_other) & (pc >= self._peak * cols_other)
              & (hr <= self._harm * pr) & (hc <= self._harm * pc)
              & (explained >= self._ratio))
        return [KEYPAD[ri][ci] if good else "" for ri, ci, good in zip(r, c, ok)]

    def process(self, frame: AudioFrame) -> list[DtmfDigit]:
        if frame.sample_rate != self.sample_rate:
            raise ValueError(f"DtmfDetector: frame at {frame.sample_rate} Hz, expected {self.sample_rate} Hz")
        t_buf = frame.timestamp - len(self._tail) / self.sample_rate
        buf = np.concatenate([self._tail, frame.array()]) if len(self._tail) else frame.array().astype(np.float64)
        n, hop = self._n, self._hop
        if len(buf) < n:
            self._tail = buf.astype(np.float64)
            return []
        windows = sliding_window_view(buf, n)[::hop]
        consumed = len(windows) * hop
        self._tail = np.asarray(buf[consumed:], dtype=np.float64)
        if float(np.dot(buf, buf)) < self._min_power * len(buf):
            labels = [""] * len(windows)  # too quiet to hold any tone: skip the maths
        else:
            labels = self.classify(np.asarray(windows, dtype=np.float64))
        out: list[DtmfDigit] = []
        for i, d in enumerate(labels):
            t = t_buf + i * hop / self.sample_rate
            out += self._track(d, t)
        return out

    def _track(self, digit: str, t: float) -> list[DtmfDigit]:
        if digit and digit == self._candidate:
            self._run += 1
        else:
            self._candidate, self._run, self._run_start = digit, 1 if digit else 0, t
        if digit == self._reported and digit:
            self._absent = 0
            return []
        if not digit or digit != self._reported:
            self._absent += 1
        if self._absent >= 2:
            self._reported = ""
        if digit and self._run >= 2 and not self._reported:
            self._reported, self._absent = digit, 0
            seen = (t + self._n / self.sample_rate) - self._run_start
            return [DtmfDigit(digit, round(self._run_start, 4), source="inband", duration=round(seen, 4))]
        return []


def merge_dtmf(*streams: Iterable[DtmfDigit], window: float = 0.12) -> list[DtmfDigit]:
    """Interleave digits from several sources (in-band detection, RFC 2833 /
    SIP INFO out-of-band) in time order. Gateways often send a key both ways;
    the same digit from a *different* source within ``window`` seconds of one
    already kept is that same press and is dropped."""
    merged = sorted((d for s in streams for d in s), key=lambda d: (d.timestamp, d.source))
    kept: list[DtmfDigit] = []
    for d in merged:
        dup = any(k.digit == d.digit and k.source != d.source and d.timestamp - k.timestamp <= window
                  for k in kept[-4:])
        if not dup:
            kept.append(d)
    return kept
