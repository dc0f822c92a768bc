"""Whisper's int8 arithmetic is pinned so one audio gives one transcript on
every x86 machine: CTranslate2's own kernels to AVX2, and its matrix products
to oneDNN at AVX2 (MKL on Intel and oneDNN on AMD gave different fixture
transcripts). An operator's own setting always wins."""
from __future__ import annotations

import platform

import pytest

from ivr.asr import whisper

VARS = ("CT2_FORCE_CPU_ISA", "CT2_USE_MKL", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


@pytest.fixture
def clean_env(monkeypatch):
    for v in VARS:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    return monkeypatch


def test_pins_kernels_and_gemm_library_on_x86(clean_env, tmp_path):
    import os

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu sse2 avx avx2 fma\n")
    real_path = whisper.Path
    clean_env.setattr(whisper, "Path", lambda p: cpuinfo if p == "/proc/cpuinfo" else real_path(p))
    assert whisper.pin_cpu_isa() == "AVX2"
    assert os.environ["CT2_FORCE_CPU_ISA"] == "AVX2"
    assert os.environ["CT2_USE_MKL"] == "0"
    assert os.environ["ONEDNN_MAX_CPU_ISA"] == "AVX2"


def test_an_operators_choice_is_kept(clean_env):
    import os

    clean_env.setenv("CT2_FORCE_CPU_ISA", "AVX512")
    clean_env.setenv("CT2_USE_MKL", "1")
    assert whisper.pin_cpu_isa() == "AVX512"
    assert os.environ["CT2_USE_MKL"] == "1" and "ONEDNN_MAX_CPU_ISA" not in os.environ


def test_nothing_is_pinned_off_x86(clean_env):
    import os

    clean_env.setattr(platform, "machine", lambda: "aarch64")
    assert whisper.pin_cpu_isa() is None
    assert not any(v in os.environ for v in VARS)
