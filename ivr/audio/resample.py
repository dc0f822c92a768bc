"""Streaming polyphase FIR resampler with anti-aliasing.

The rate change is reduced to up/down = L/M. One Kaiser-windowed low-pass
(cut below the lower Nyquist, >= 70 dB stop band) is split into L phases; each
output sample is one dot product of the newest input window with one phase.
The input tail is kept between chunks and the filter delay is compensated, so
``Resampler.process`` over any chunking followed by ``flush`` equals
``resample`` on the whole signal, and a tone keeps its place in time."""
from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_STOP_DB = 72.0


def _kaiser_lowpass(ntaps: int, cutoff: float, fs: float, stop_db: float) -> np.ndarray:
    """Windowed-sinc low-pass (Kaiser's beta for ``stop_db``), unity gain at DC.
    Written out with numpy so importing the audio package stays quick (scipy.signal
    costs seconds to import on a loaded machine)."""
    beta = 0.1102 * (stop_db - 8.7) if stop_db > 50 else 0.5842 * (stop_db - 21) ** 0.4 + 0.07886 * (stop_db - 21)
    m = np.arange(ntaps) - (ntaps - 1) / 2
    h = np.sinc(2 * cutoff / fs * m) * np.kaiser(ntaps, beta)
    return h / h.sum()


def _kaiser_taps(stop_db: float, width: float) -> int:
    """Taps for a transition band ``width`` (fraction of Nyquist), per Kaiser."""
    return int(np.ceil((stop_db - 7.95) / (2.285 * np.pi * width) + 1))


@lru_cache(maxsize=16)
def _design(src: int, dst: int) -> tuple[int, int, np.ndarray, int]:
    g = gcd(src, dst)
    up, down = dst // g, src // g
    nyq = min(src, dst) / 2.0
    fs_up = src * up
    # pass band to 0.85 x the lower Nyquist, stop band from 1.0 x: telephone
    # speech lives below 3.4 kHz at 8 kHz, so nothing audible is lost.
    width = 0.15 * nyq / (fs_up / 2.0)
    ntaps = _kaiser_taps(_STOP_DB, width)
    taps_per_phase = -(-ntaps // up)
    ntaps = taps_per_phase * up
    # an odd-length (symmetric) filter has a whole-sample delay; pad it to fill the phases
    odd = ntaps - 1 if ntaps % 2 == 0 else ntaps
    h = np.zeros(ntaps)
    h[:odd] = _kaiser_lowpass(odd, 0.925 * nyq, fs_up, _STOP_DB) * up
    # phase p holds h[p], h[p+L], ...; reversed so a dot with the oldest-first window applies it
    phases = h.reshape(taps_per_phase, up).T[:, ::-1].copy()
    phases.flags.writeable = False  # shared by every Resampler of this rate pair
    delay = (odd - 1) // 2
    return up, down, phases, delay


class Resampler:
    """Convert a stream of int16 chunks from ``src_rate`` to ``dst_rate``.

    ``process(chunk)`` returns what can be computed so far; ``flush()`` returns
    the tail (call once at end of stream)."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise ValueError(f"Resampler: bad rates {src_rate} -> {dst_rate}")
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self.passthrough = src_rate == dst_rate
        self._up, self._down, self._phases, self._delay = _design(src_rate, dst_rate)
        self._k = self._phases.shape[1]
        # history: the last k-1 inputs before the buffer's current samples (zeros before time 0)
        self._buf = np.zeros(self._k - 1, dtype=np.float64)
        self._buf_start = -(self._k - 1)  # absolute input index of _buf[0]
        self._n_in = 0
        self._n_out = 0  # outputs produced so far

    def _emit(self, last_input: int, limit: int | None) -> np.ndarray:
        up, down, k = self._up, self._down, self._k
        # output n needs input index i = (n*M + delay) // L, available if i <= last_input
        n_max = ((last_input + 1) * up - self._delay - 1) // down  # largest n with i <= last_input
        if limit is not None:
            n_max = min(n_max, limit - 1)
        if n_max < self._n_out:
            return np.zeros(0, dtype=np.int16)
        count = n_max + 1 - self._n_out
        y = np.empty(count, dtype=np.float64)
        buf = self._buf
        # Outputs L apart share a phase and sit M inputs apart: one correlation
        # per phase (C loops) instead of Python work per sample. For a large M
        # (44.1 kHz -> 16 kHz) gather the windows instead of correlating every input.
        for j in range(min(up, count)):
            pos = (self._n_out + j) * down + self._delay
            row = pos // up - (k - 1) - self._buf_start
            m = len(range(j, count, up))
            taps = self._phases[pos % up]
            if down <= 8:
                seg = buf[row: row + down * (m - 1) + k]
                y[j::up] = np.correlate(seg, taps, "valid")[::down]
            else:
                y[j::up] = sliding_window_view(buf, k)[row: row + down * (m - 1) + 1: down] @ taps
        self._n_out = n_max + 1
        # keep only what future outputs can still need
        next_idx = (self._n_out * down + self._delay) // up
        drop = max(0, next_idx - (k - 1) - self._buf_start)
        if drop:
            self._buf = self._buf[drop:]
            self._buf_start += drop
        # ufuncs in place: np.clip's Python wrapper costs more than the maths here
        np.rint(y, out=y)
        np.maximum(y, -32768.0, out=y)
        np.minimum(y, 32767.0, out=y)
        return y.astype(np.int16)

    def process(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples)
        if self.passthrough:
            return x.astype(np.int16, copy=False)
        if x.size == 0:
            return np.zeros(0, dtype=np.int16)
        self._buf = np.concatenate([self._buf, x.astype(np.float64)])
        self._n_in += x.size
        return self._emit(self._n_in - 1, None)

    def flush(self) -> np.ndarray:
        """The remaining outputs (input padded with zeros); the total output
        length is ceil(inputs * dst / src)."""
        if self.passthrough:
            return np.zeros(0, dtype=np.int16)
        total = -(-self._n_in * self._up // self._down)
        pad = self._delay // self._up + self._k + 1
        self._buf = np.concatenate([self._buf, np.zeros(pad)])
        return self._emit(self._n_in - 1 + pad, total)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """One-shot resample of a whole int16 signal (same numbers as streaming)."""
    if src_rate == dst_rate:
        return np.asarray(samples).astype(np.int16, copy=True)
    r = Resampler(src_rate, dst_rate)
    return np.concatenate([r.process(samples), r.flush()])
