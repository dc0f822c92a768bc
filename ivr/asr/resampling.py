"""Rate conversion for engines whose model wants a fixed rate."""
from __future__ import annotations

import numpy as np


def resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return np.asarray(samples, dtype=np.int16)
    try:
        from ivr.audio.resample import resample as audio_resample
    except ImportError:  # ivr.audio absent: same job with scipy
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(src, dst)
        y = resample_poly(np.asarray(samples, dtype=np.float64), dst // g, src // g)
        return np.clip(np.round(y), -32768, 32767).astype(np.int16)
    return audio_resample(np.asarray(samples, dtype=np.int16), src, dst)
