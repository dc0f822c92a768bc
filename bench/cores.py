"""The benchmarks' one-core environment, in one place and without side effects on import."""
from __future__ import annotations

import os


def one_core() -> None:
    """The benchmarks decode and classify on one core, as a call worker of ``ivr serve`` on two
    cores does (two Whisper workers of one thread each). Called when a script runs (before numpy
    loads where OpenBLAS matters), never at import: a test importing a bench module must not change
    its process's environment (the fixture-suite subprocess inherited OMP_NUM_THREADS=1 from the
    test process, and Whisper's int8 results with one thread differ from two: 手進行 for 手機銀行)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
