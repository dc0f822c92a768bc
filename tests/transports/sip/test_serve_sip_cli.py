"""``ivr serve --sip`` as a process: it registers with a SIPp registrar (digest
auth, renewal), SIPp's OPTIONS probe is answered, an INVITE past
``--sip-max-calls`` gets 486, SIGTERM stops it cleanly."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.transports.sip.harness import free_port, needs_sipp, run_sipp, scenario, sipp_report, start_sipp_uas
from tests.transports.sip.test_dial import finish, wait_listening

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [needs_sipp, pytest.mark.timeout(200)]


def test_serve_sip_registers_answers_options_and_refuses_at_capacity(tmp_path):
    import os

    reg_port = free_port()
    registrar = start_sipp_uas(tmp_path, scenario(tmp_path, "uas_registrar.xml"), reg_port, timeout=30)
    wait_listening(registrar, reg_port)
    cmd = [sys.executable, "-m", "ivr", "serve", "--sip", "127.0.0.1:0", "--sip-max-calls", "0",
           "--sip-register", f"sip:ivr@127.0.0.1:{reg_port}",
           "--flows", str(ROOT / "flows"), "--engine", "fake", "--records", str(tmp_path / "calls.sqlite3"),
           "--queue", "none", "--bank", str(tmp_path / "bank.sqlite3"), "--drain", "1", "--no-prewarm"]
    env = {**os.environ, "IVR_SIP_PASSWORD": "s3cret-pw"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    watchdog = threading.Timer(150, proc.kill)
    watchdog.start()
    try:
        addr = None
        registered = False
        assert proc.stdout is not None
        for line in proc.stdout:
            registered = registered or line.strip() == f"sip register sip:ivr@127.0.0.1:{reg_port}: registered"
            m = re.match(r"sip: udp (.+):(\d+)$", line.strip())
            if m:
                addr = (m.group(1), int(m.group(2)))
            if line.strip() == "ready":
                break
        assert addr is not None and registered, proc.stderr.read() if proc.stderr else ""
        sipp = run_sipp(tmp_path, scenario(tmp_path, "uac_refused.xml", EXPECT_CODE="486"), addr[1], timeout=20)
        assert sipp.returncode == 0, sipp_report(tmp_path, sipp)
        reg = finish(registrar, tmp_path)   # challenged, authenticated, renewed
        assert reg.returncode == 0, sipp_report(tmp_path, reg)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "stopped" in proc.stdout.read()
    finally:
        watchdog.cancel()
        for p in (proc, registrar):
            if p.poll() is None:
                p.kill()


def test_serve_sip_rtp_sender_option_reaches_the_server_options(capsys):
    from ivr.cli import build_parser
    from ivr.cli.serve import sip_options

    parser = build_parser()
    default = sip_options(parser.parse_args(["serve", "--sip", "127.0.0.1:5060"]))
    assert default.rtp_sender == "process"
    chosen = sip_options(parser.parse_args(["serve", "--sip", "127.0.0.1:5060", "--sip-rtp-sender", "thread"]))
    assert chosen.rtp_sender == "thread" and chosen.media_host == "127.0.0.1"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--sip", "127.0.0.1:5060", "--sip-rtp-sender", "fork"])
    assert "--sip-rtp-sender: invalid choice: 'fork'" in capsys.readouterr().err
