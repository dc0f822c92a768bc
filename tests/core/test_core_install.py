"""The core install (no extras) runs the call loop's commands, and a command
that needs an extra says which one in one line. The extras' packages are made
unimportable in a child process, as on a machine that installed only ``ivr``."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ivr.extras import EXTRA_OF_MODULE

BLOCKER = textwrap.dedent(f"""
    import sys
    BLOCK = {sorted(set(EXTRA_OF_MODULE) | {"pytest", "hypothesis", "jsonschema", "playwright"})!r}
    class _NoExtras:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCK:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None
    sys.meta_path.insert(0, _NoExtras())
""")


@pytest.fixture
def core_only(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": str(tmp_path), "IVR_TTS_CACHE": str(tmp_path / "tts")}


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_core_rooms_import_without_extras(core_only: dict[str, str], tmp_path: Path) -> None:
    code = ("import ivr, ivr.session, ivr.transports, ivr.qa, ivr.dialog, ivr.nlu, ivr.asr, ivr.handoff, ivr.prompts\n"
            "from ivr.cli import build_parser; build_parser()\n"
            "import fastapi\n")
    p = run(core_only, tmp_path, "-c", code)
    # every room imported; only the explicit import of an extra failed
    assert p.returncode == 1 and p.stderr.strip().endswith("No module named 'fastapi'"), p.stderr[-1500:]


def test_core_commands_work_without_extras(core_only: dict[str, str], tmp_path: Path) -> None:
    nlu = run(core_only, tmp_path, "-m", "ivr", "nlu", "我要查餘額")
    assert nlu.returncode == 0 and "check_balance" in nlu.stdout, nlu.stderr[-1500:]
    val = run(core_only, tmp_path, "-m", "ivr", "validate")
    assert val.returncode == 0, val.stderr[-1500:]


def test_a_missing_extra_is_named_in_one_line(core_only: dict[str, str], tmp_path: Path) -> None:
    p = run(core_only, tmp_path, "-m", "ivr", "agents", "desktop")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "pip install 'ivr[desktop]'" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    s = run(core_only, tmp_path, "-m", "ivr", "say", "你好", "-o", str(tmp_path / "x.wav"))
    assert s.returncode == 2 and "Traceback" not in s.stderr and "ivr[tts]" in s.stderr, s.stderr[-1500:]
