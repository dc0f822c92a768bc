"""Settings for a server: session options from a TOML file, flags and --set,
one-line errors naming file and key; flow hot reload wired into the server's
services."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.frames import CallStarted
from ivr.session.config import SessionConfig
from ivr.settings import SettingsError, session_config

ROOT = Path(__file__).resolve().parents[2]


def test_file_then_overrides(tmp_path: Path) -> None:
    f = tmp_path / "ivr.toml"
    f.write_text('[session]\ninter_digit_timeout_s = 2.5\nemergency_number = "0800000123"\n'
                 '[session.barge_in]\nconfirm_ms = 80\n', encoding="utf-8")
    cfg = session_config(f, ["session.barge_in.enabled=false", "session.max_hold_s=600"],
                         base={"max_call_seconds": 300})
    assert cfg.inter_digit_timeout_s == 2.5 and cfg.emergency_number == "0800000123"
    assert cfg.barge_in.confirm_ms == 80 and cfg.barge_in.enabled is False
    assert cfg.max_hold_s == 600.0 and cfg.max_call_seconds == 300.0
    assert session_config() == SessionConfig()


@pytest.mark.parametrize(("text", "override", "message"), [
    ("[session]\nbarge = true\n", None, "unknown setting 'barge'"),
    ("[session]\ninter_digit_timeout_s = 'soon'\n", None, "expected a number"),
    ("[session]\ninter_digit_timeout_s = -1\n", None, "must not be negative"),
    ("[sessions]\n", None, "unknown table(s) sessions"),
    ("[session\n", None, "not valid TOML"),
    ("", "session.barge_in.enabled=maybe", "expected true or false"),
    ("", "session.max_hold_s", "expected KEY=VALUE"),
])
def test_bad_settings_are_one_line_errors(tmp_path: Path, text: str, override: str | None, message: str) -> None:
    f = tmp_path / "ivr.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as e:
        session_config(f, [override] if override else [])
    assert message in str(e.value) and "\n" not in str(e.value)
    if override is None:
        assert str(f) in str(e.value)


def test_serve_rejects_a_bad_settings_file_in_one_line(tmp_path: Path) -> None:
    f = tmp_path / "ivr.toml"
    f.write_text("[session]\nbarge = true\n", encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "ivr", "serve", "--config", str(f), "--websocket", "127.0.0.1:0"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "unknown setting 'barge'" in p.stderr and str(f) in p.stderr


def test_build_services_follows_the_flows_when_asked(tmp_path: Path) -> None:
    from ivr.session.factory import build_services

    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    services = build_services(flows, records_path=tmp_path / "calls.sqlite3", handoff_url="none",
                              bank_path=tmp_path / "bank.sqlite3", reload_flows=True)
    try:
        dialog = services.dialog
        first, _ = dialog.step(None, CallStarted(call_id="a"))
        menu = flows / "menu.yaml"
        menu.write_text(menu.read_text(encoding="utf-8").replace("請說出", "請告訴我"), encoding="utf-8")
        st = menu.stat()
        os.utime(menu, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        dialog.store.poll_interval = 0  # type: ignore[attr-defined]
        second, _ = dialog.step(None, CallStarted(call_id="b"))
        assert second.flow_version != first.flow_version
    finally:
        services.close()
