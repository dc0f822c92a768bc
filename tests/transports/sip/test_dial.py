"""Outbound calls (the ``Dialer`` seam, ``ivr dial``) to SIPp as the called
party: answered (RFC 4733 keys drive the flow, the bot hangs up) and busy."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ivr.transports.sip import SipDialer
from tests.transports.sip.harness import (
    SipServerThread,
    free_port,
    needs_sipp,
    scenario,
    sipp_report,
    start_sipp_uas,
)

pytestmark = [needs_sipp, pytest.mark.timeout(120)]
ROOT = Path(__file__).resolve().parents[3]


def wait_listening(proc: subprocess.Popen[str], port: int) -> None:
    import socket

    deadline = time.monotonic() + 5  # SIPp binds at once; give it a moment to load its pcaps
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return  # taken: SIPp is there
        time.sleep(0.05)


def finish(proc: subprocess.Popen[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=40)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_dial_answered_runs_the_flow_until_the_bot_hangs_up(tmp_path):
    port = free_port()
    uas = start_sipp_uas(tmp_path, scenario(tmp_path, "uas_answer.xml"), port)
    srv = SipServerThread(tmp_path)
    try:
        wait_listening(uas, port)
        result = srv.call(SipDialer(srv.sip).dial(f"sip:0912345678@127.0.0.1:{port}", caller="bank"), 60)
        proc = finish(uas, tmp_path)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert result.answered and result.sip_code is None and result.end == "completed"
        rec = result.record
        assert rec is not None and (rec.outcome, rec.transport) == ("self_served", "sip")
        assert [t["dtmf"] for t in rec.turns] == ["1", "2347"]
        assert srv.records.get(rec.call_id) is not None
    finally:
        if uas.poll() is None:
            uas.kill()
        srv.stop()


def test_dial_busy(tmp_path):
    port = free_port()
    uas = start_sipp_uas(tmp_path, scenario(tmp_path, "uas_busy.xml"), port)
    srv = SipServerThread(tmp_path)
    try:
        wait_listening(uas, port)
        result = srv.call(SipDialer(srv.sip).dial(f"sip:0912345678@127.0.0.1:{port}"), 60)
        proc = finish(uas, tmp_path)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)   # our ACK for the 486 arrived
        assert (result.answered, result.sip_code, result.end, result.record) == (False, 486, "busy", None)
        assert srv.records.call_ids() == [] and not srv.sip.active
    finally:
        if uas.poll() is None:
            uas.kill()
        srv.stop()


def test_ivr_dial_command(tmp_path):
    port = free_port()
    uas = start_sipp_uas(tmp_path, scenario(tmp_path, "uas_busy.xml"), port)
    try:
        wait_listening(uas, port)
        cli = subprocess.run([sys.executable, "-m", "ivr", "dial", f"sip:0912345678@127.0.0.1:{port}",
                              "--flow", "main", "--flows", str(ROOT / "flows"), "--engine", "fake",
                              "--records", str(tmp_path / "calls.sqlite3"), "--queue", "none",
                              "--bank", str(tmp_path / "bank.sqlite3")],
                             capture_output=True, text=True, timeout=90, cwd=tmp_path)
        assert (cli.returncode, cli.stdout) == (1, "not answered: busy (SIP 486)\n"), cli.stderr[-2000:]
        proc = finish(uas, tmp_path)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
    finally:
        if uas.poll() is None:
            uas.kill()
