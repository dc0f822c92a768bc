"""Fixtures for the audio room: WAV files written byte by byte (any format
tag, channel count, bit depth), and sox as an independent reference."""
from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest


def riff(fmt_tag: int, channels: int, rate: int, bits: int, data: bytes, *, declared: int | None = None) -> bytes:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    size = len(data) if declared is None else declared
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.fixture
def make_wav(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def make(fmt_tag: int, channels: int, rate: int, bits: int, data: bytes, **kw) -> Path:
        p = tmp_path / f"made{next(counter)}.wav"
        p.write_bytes(riff(fmt_tag, channels, rate, bits, data, **kw))
        return p

    return make


@pytest.fixture(scope="session")
def sox() -> str:
    exe = shutil.which("sox")
    if not exe:
        pytest.skip("needs sox (Debian package sox) as an independent WAV/G.711 reference")
    return exe
