"""Helpers for the asr tests: reading audio and feeding it like a call does."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    from ivr.audio.wav import read_wav

    return read_wav(path)


def feed(rec, samples: np.ndarray, rate: int, ms: int = 20):
    """Feed audio in telephone-sized frames, like the session does; returns partials."""
    step = rate * ms // 1000
    partials = []
    for i in range(0, samples.size, step):
        t = rec.accept(samples[i:i + step].astype("<i2").tobytes())
        if t is not None:
            partials.append(t)
    return partials


def espeak(text: str, voice: str, rate: int = 16000) -> np.ndarray:
    """Synthesize ``text`` with Debian espeak-ng, resampled to ``rate``."""
    from ivr.asr.resampling import resample
    from ivr.audio.wav import read_wav

    if not shutil.which("espeak-ng"):
        pytest.skip("needs espeak-ng (Debian package espeak-ng)")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "espeak.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(out), text], capture_output=True, check=True)
        x, sr = read_wav(out)
    return resample(x, sr, rate)
