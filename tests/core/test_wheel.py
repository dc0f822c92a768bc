"""A plain (non-editable) install carries the flows and model manifests, so
`ivr` works from any directory, and the package is marked typed."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_flows_manifests_and_py_typed(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    (wheel,) = tmp_path.glob("ivr-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    flows = {f"ivr/shipped/flows/{f.name}" for f in (ROOT / "flows").glob("*.yaml")}
    manifests = {f"ivr/shipped/models/{f.name}" for f in (ROOT / "models").glob("*.yaml")}
    assert flows and flows <= names
    assert manifests and manifests <= names
    assert "ivr/py.typed" in names
    assert not any(n.startswith(("tests/", "bench/", "audio_fixtures/")) for n in names)
