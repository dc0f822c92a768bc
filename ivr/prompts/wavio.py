"""WAV reading/writing and resampling for prompts: the audio room's (it reads
μ-law/A-law and more formats, and names the file in every error)."""
from __future__ import annotations

import numpy as np

from ivr.audio.resample import resample
from ivr.audio.wav import read_wav, write_wav

__all__ = ["float_to_int16", "read_wav", "resample", "write_wav"]


def float_to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(x, dtype=np.float32), -1.0, 1.0) * 32767).astype(np.int16)
