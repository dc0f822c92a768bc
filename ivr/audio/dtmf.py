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
* fitted as that tone pair (each tone allowed up to 2 % off nominal), it
  explains >= 85 % of the window's energy (speech and noise do not);
* its two halves differ in energy by <= 2.2 dB (a tone that starts or stops
  inside the window does not pass, so blips under ~25 ms are not keys).

A key press is reported once, when the same digit holds in two consecutive
windows (>= 30 ms of tone); it must then be absent for two windows before the
same key can count again, so a noisy tone is not split into two presses.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from ivr.frames import AudioFrame, DtmfDigit

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
_FREQ = {KEYPAD[r][c]: (ROWS[r], COLS[c]) for r in range(4) for c in range(4)}

# how far off nominal the tone-pair fit reaches (Q.24: accept 1.5 %, reject 3.5 %)
_DEV = 0.02

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
    """For each of the 16 digits: a basis B (n, m) spanning that tone pair,
    each tone from -_DEV to +_DEV off nominal, and its pseudo-inverse (m, n),
    to fit a window as that tone pair. Real keypads are up to 1.5 % off; over
    20 ms that is up to half a cycle of drift, so the nominal frequencies alone
    would fit a good tone badly."""
    t = np.arange(n) / rate
    bases, pinvs = [], []
    for r in ROWS:
        for c in COLS:
            cols = []
            for f in (r, c):
                for d in (-_DEV, 0.0, _DEV):
                    cols += [np.cos(2 * np.pi * f * (1 + d) * t), np.sin(2 * np.pi * f * (1 + d) * t)]
            b = np.stack(cols, axis=1)
            bases.append(b)
            pinvs.append(np.linalg.pinv(b, rcond=1e-6))
    b, p = np.stack(bases), np.stack(pinvs)
    b.flags.writeable = p.flags.writeable = False  # cached: shared by every detector
    return b, p


@lru_cache(maxsize=8)
def _basis(rate: int, n: int) -> np.ndarray:
    """(n, 32): cos and sin columns for the 8 DTMF tones and their 8 second harmonics."""
    freqs = np.array(ROWS + COLS + tuple(2 * f for f in ROWS + COLS))
    ang = 2 * np.pi * np.outer(np.arange(n), freqs) / rate
    basis = np.ascontiguousarray(np.hstack([np.cos(ang), np.sin(ang)]))
    basis.flags.writeable = False  # cached: shared by every detector
    return basis


class DtmfDetector:
    """``process(frame) -> list[DtmfDigit]`` (source "inband"); frames of any length."""

    def __init__(self, sample_rate: int, *, min_level_dbm: float = -36.0, normal_twist_db: float = 8.0,
                 reverse_twist_db: float = 4.0, min_tone_ratio: float = 0.85,
                 harmonic_db: float = 20.0, peak_db: float = 6.0, max_half_step_db: float = 2.2) -> None:
        if sample_rate < 4000:
            raise ValueError(f"DtmfDetector: {sample_rate} Hz cannot carry DTMF")
        self.sample_rate = sample_rate
        self._n = sample_rate // 50  # 20 ms window
        self._hop = self._n // 2
        if self._n % 2:
            raise ValueError(f"DtmfDetector: {sample_rate} Hz gives an odd 20 ms window")
        self._basis = _basis(sample_rate, self._n)
        self._pair_b, self._pair_pinv = _pair_fits(sample_rate, self._n)
        # cos and sin of the eight fundamentals; per digit, its two second harmonics
        self._fund = np.ascontiguousarray(self._basis[:, np.r_[0:8, 16:24]])
        self._harm_basis = np.stack([self._basis[:, [8 + ri, 24 + ri, 12 + ci, 28 + ci]]
                                     for ri in range(4) for ci in range(4)])
        amp = dbm0_to_amplitude(min_level_dbm)
        self._min_power = amp * amp / 2
        self._twist_lo = 10 ** (-normal_twist_db / 10)
        self._twist_hi = 10 ** (reverse_twist_db / 10)
        self._ratio = min_tone_ratio
        self._steady = 10 ** (-max_half_step_db / 10)
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
        k, n = windows.shape
        # cheap tests first, on the eight fundamentals only
        proj = windows @ self._fund
        power = proj[:, :8] ** 2 + proj[:, 8:] ** 2
        # Pre-screen (most speech stops here): the strongest row and column tone
        # must carry >= 30 % of the window's power even measured at nominal
        # frequency (a good pair 1.5 % off still carries ~45 %).
        total = np.einsum("ij,ij->i", windows, windows)
        strongest = power[:, :4].max(axis=1) + power[:, 4:].max(axis=1)
        if not (strongest * (2.0 / n) >= 0.3 * total).any():
            return [""] * k
        power = power.reshape(k, 2, 4) * (2.0 / (n * n))
        best = power.argmax(axis=2)  # (k, 2): row index, column index
        ranked = np.sort(power, axis=2)
        top, second = ranked[:, :, 3], ranked[:, :, 2]  # (k, 2)
        pr, pc = top[:, 0], top[:, 1]
        twist = pc / np.maximum(pr, 1e-12)
        # a tone that fills the window is steady: both halves carry like energy
        half = n // 2
        ea = np.einsum("ij,ij->i", windows[:, :half], windows[:, :half])
        eb = np.einsum("ij,ij->i", windows[:, half:], windows[:, half:])
        ok = ((top.min(axis=1) >= self._min_power) & (twist >= self._twist_lo) & (twist <= self._twist_hi)
              & (top >= self._peak * second).all(axis=1)
              & (np.minimum(ea, eb) >= self._steady * np.maximum(ea, eb)))
        r, c = best[:, 0], best[:, 1]
        labels = [""] * k
        if not ok.any():
            return labels
        for i in np.flatnonzero(ok):
            # Fit the window as exactly its candidate tone pair and look at what is
            # left: its energy and its second harmonics. (Measured on the raw window
            # a column tone leaks into a nearby row harmonic, e.g. 1336 Hz into
            # 2 x 697 Hz = 1394 Hz.)
            key = int(r[i]) * 4 + int(c[i])
            w = windows[i]
            resid = w - self._pair_b[key] @ (self._pair_pinv[key] @ w)
            energy = float(w @ w)
            if energy <= 0 or 1.0 - float(resid @ resid) / energy < self._ratio:
                continue
            hp = (resid @ self._harm_basis[key]) ** 2 * (2.0 / (n * n))
            if hp[0] + hp[1] > self._harm * pr[i] or hp[2] + hp[3] > self._harm * pc[i]:
                continue
            labels[i] = KEYPAD[r[i]][c[i]]
        return labels

    def process(self, frame: AudioFrame) -> list[DtmfDigit]:
        if frame.sample_rate != self.sample_rate:
            raise ValueError(f"DtmfDetector: frame at {frame.sample_rate} Hz, expected {self.sample_rate} Hz")
        t_buf = frame.timestamp - len(self._tail) / self.sample_rate
        buf = np.concatenate([self._tail, frame.array()]) if len(self._tail) else frame.array().astype(np.float64)
        n, hop = self._n, self._hop
        if len(buf) < n:
            self._tail = buf.astype(np.float64)
            return []
        # windows are two consecutive half-windows side by side (hop = n / 2)
        halves = (len(buf) - hop) // hop
        consumed = halves * hop
        self._tail = np.asarray(buf[consumed:], dtype=np.float64)
        if float(np.dot(buf, buf)) < self._min_power * len(buf):
            labels = [""] * halves  # too quiet to hold any tone: skip the maths
        else:
            h = np.asarray(buf[: consumed + hop], dtype=np.float64).reshape(halves + 1, hop)
            labels = self.classify(np.concatenate((h[:-1], h[1:]), axis=1))
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
