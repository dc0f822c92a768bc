"""Outbound calls over SIP/TCP (``ivr dial --sip-transport tcp``) to SIPp in
TCP mode (``-t t1``) as the called party: the INVITE opens a connection of
ours, the 200, ACK, keys and the bot's BYE all ride on it."""
from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ivr.transports.sip import SipDialer, SipOptions
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
TCP = ("-t", "t1", "-trace_msg")


def free_tcp_port() -> int:
    return free_port(socket.SOCK_STREAM)


def wait_tcp_listening(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


def finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=40)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def sipp_trace(tmp: Path) -> str:
    (trace,) = tmp.glob("*_messages.log")
    return trace.read_text(errors="replace")


def test_dial_over_tcp_answered_keys_and_bye(tmp_path):
    port = free_tcp_port()
    uas = start_sipp_uas(tmp_path, scenario(tmp_path, "uas_answer.xml"), port, extra=TCP)
    srv = SipServerThread(tmp_path, SipOptions(transport="tcp"))
    try:
        wait_tcp_listening(uas, port)
        result = srv.call(SipDialer(srv.sip).dial(f"sip:0912345678@127.0.0.1:{port}", caller="bank"), 60)
        proc = finish(uas)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert result.answered and result.sip_code is None and result.end == "completed"
        rec = result.record
        assert rec is not None and rec.outcome == "self_served"
        assert [t["dtmf"] for t in rec.turns] == ["1", "2347"]
        text = sipp_trace(tmp_path)
        assert "TCP message received" in text and "UDP message" not in text
        assert "\nINVITE sip:0912345678@" in text and "Via: SIP/2.0/TCP " in text
        assert ";transport=tcp>" in text                 # our Contact: the callee's BYE would come over TCP
        assert "\nBYE sip:callee@" in text               # the bot's BYE, on the same connection
    finally:
        if uas.poll() is None:
            uas.kill()
        srv.stop()


def test_ivr_dial_command_over_tcp(tmp_path):
    port = free_tcp_port()
    uas = start_sipp_uas(tmp_path, scenario(tmp_path, "uas_busy.xml"), port, extra=TCP)
    try:
        wait_tcp_listening(uas, port)
        cli = subprocess.run([sys.executable, "-m", "ivr", "dial", f"sip:0912345678@127.0.0.1:{port}",
                              "--sip-transport", "tcp", "--flow", "main", "--flows", str(ROOT / "flows"),
                              "--engine", "fake", "--records", str(tmp_path / "calls.sqlite3"), "--queue", "none",
                              "--bank", str(tmp_path / "bank.sqlite3")],
                             capture_output=True, text=True, timeout=90, cwd=tmp_path)
        assert (cli.returncode, cli.stdout) == (1, "not answered: busy (SIP 486)\n"), cli.stderr[-2000:]
        proc = finish(uas)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)   # our ACK for the 486 came over TCP
        assert "TCP message received" in sipp_trace(tmp_path)
    finally:
        if uas.poll() is None:
            uas.kill()


def test_ivr_dial_refuses_an_unknown_transport(tmp_path):
    cli = subprocess.run([sys.executable, "-m", "ivr", "dial", "sip:1@127.0.0.1:9", "--sip-transport", "sctp"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert cli.returncode == 2 and "--sip-transport: invalid choice: 'sctp'" in cli.stderr


def test_stop_closes_behind_what_sippys_thread_is_still_sending():
    """sippy reports a failed call before it ACKs the final response: ``stop()``
    (what ``ivr dial`` ends with) must let that ACK reach the loop before the
    connections close -- it failed a loaded CI run as ``sipp exit 1``."""
    from ivr.clock import RealClock
    from ivr.transports.sip import SipServer
    from ivr.transports.sip.stack import Reactor

    async def scenario_() -> list[str]:
        loop = asyncio.get_running_loop()
        server = SipServer(lambda *a: None, RealClock(), options=SipOptions(transport="tcp"))  # type: ignore[arg-type]
        server.loop = loop
        order: list[str] = []
        server.shutdown = lambda: order.append("shutdown")  # type: ignore[method-assign]

        def reactor_still_sending() -> None:   # on sippy's thread: the result is out, the ACK comes after
            time.sleep(0.3)
            loop.call_soon_threadsafe(order.append, "ack")

        Reactor.call(reactor_still_sending)
        await server.stop()
        return order

    assert asyncio.run(scenario_()) == ["ack", "shutdown"]
