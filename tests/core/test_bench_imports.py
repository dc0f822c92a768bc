"""Importing a bench script (tests import some: understanding.py's styles, the
understanding set) must not change the process's environment. bench/understanding.py
set OMP_NUM_THREADS=1 on import; the test process passed it on to the fixture-suite
subprocess, Whisper decoded with one thread there, and its int8 results differ from
two threads' (手進行 for 手機銀行): the suite failed in CI and passed alone."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"

PROBE = """
import importlib, json, os, sys
sys.path.insert(0, {bench!r})
sys.path.insert(0, {fixtures!r})
before = dict(os.environ)
failed = {{}}
for name in {names!r}:
    try:
        importlib.import_module(name)
    except Exception as e:  # an optional dependency missing here: not this test's business
        failed[name] = type(e).__name__
changed = {{k: v for k, v in os.environ.items() if before.get(k) != v}}
print(json.dumps({{"changed": changed, "failed": failed}}))
"""


def test_no_bench_module_changes_the_environment_on_import() -> None:
    names = sorted(p.stem for p in BENCH.glob("*.py") if not p.stem.startswith("_"))
    assert "understanding" in names and len(names) > 20
    code = PROBE.format(bench=str(BENCH), fixtures=str(BENCH.parent / "audio_fixtures"), names=names)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=BENCH.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["changed"] == {}, f"bench modules set {out['changed']} when imported"
    assert "understanding" not in out["failed"]
