"""A SIP ``IvrServer`` on loopback (fake speech/dialog parts, real SIP and
RTP) in its own event-loop thread, and a bounded SIPp runner."""
from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from ivr.session import CallRecordStore
from ivr.transports import IvrServer
from ivr.transports.sip import SipOptions, sip_transport
from tests.transports.servers import fake_services

HERE = Path(__file__).resolve().parent
SIPP = shutil.which("sipp")
needs_sipp = pytest.mark.skipif(SIPP is None, reason="needs SIPp (Debian package sip-tester)")


def free_port(kind: int = socket.SOCK_DGRAM, even: bool = False) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not even or (port % 2 == 0 and port < 65000):
            return port
    raise RuntimeError("no free port")


class SipServerThread:
    def __init__(self, tmp: Path, options: SipOptions | None = None, handoff=None, drain: float = 5.0) -> None:
        self.records = CallRecordStore(tmp / "calls.sqlite3")
        self.services = fake_services(self.records, handoff)
        self.options = options or SipOptions()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: IvrServer = self.call(self._make(drain))
        listening = self.call(self.server.start({"sip": "127.0.0.1:0"}))
        self.host, self.port = listening.transports["sip"]
        self.sip = self.server.transports["sip"]

    async def _make(self, drain: float) -> IvrServer:
        return IvrServer(self.services, drain_seconds=drain, transports=[sip_transport(self.options)])

    def call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        try:
            self.call(self.server.shutdown(), 30.0)
            self.sip.shutdown()  # type: ignore[attr-defined]
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.services.close()

    def wait_idle(self, timeout: float = 20.0) -> bool:
        async def idle() -> bool:
            loop = asyncio.get_running_loop()
            end = loop.time() + timeout
            while (self.sip.active or self.server.calls) and loop.time() < end:  # noqa: ASYNC110  polled
                await asyncio.sleep(0.05)
            return not self.server.calls
        return self.call(idle(), timeout + 5)


def scenario(tmp: Path, name: str, **subst: str) -> Path:
    text = (HERE / name).read_text(encoding="utf-8")
    for k, v in subst.items():
        text = text.replace(k, v)
    out = tmp / name
    out.write_text(text, encoding="utf-8")
    return out


def run_sipp(tmp: Path, scenario_file: Path, port: int, *, calls: int = 1, limit: int = 1, rate: float = 10,
             timeout: float = 60.0, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    assert SIPP is not None
    cmd = [SIPP, f"127.0.0.1:{port}", "-sf", str(scenario_file), "-m", str(calls), "-l", str(limit),
           "-r", str(rate), "-i", "127.0.0.1", "-p", str(free_port()), "-mi", "127.0.0.1",
           "-mp", str(free_port(even=True)), "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error",
           "-trace_err", "-error_file", str(tmp / "sipp_errors.log"), "-max_socket", "100", *extra]
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout + 15,
                          stdin=subprocess.DEVNULL)
    return proc


def sipp_report(tmp: Path, proc: subprocess.CompletedProcess[str]) -> str:
    err = tmp / "sipp_errors.log"
    errors = err.read_text(errors="replace")[-3000:] if err.exists() else ""
    return f"sipp exit {proc.returncode}\nstdout: {proc.stdout[-1500:]}\nstderr: {proc.stderr[-1500:]}\n{errors}"


def start_sipp_uas(tmp: Path, scenario_file: Path, port: int, timeout: float = 40.0,
                   extra: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """SIPp as the called party, listening on ``port`` for one call (runs in the background);
    ``extra=("-t", "t1")``: over TCP."""
    assert SIPP is not None
    cmd = [SIPP, "-sf", str(scenario_file), "-m", "1", "-i", "127.0.0.1", "-p", str(port), "-mi", "127.0.0.1",
           "-mp", str(free_port(even=True)), "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error",
           "-trace_err", "-error_file", str(tmp / "sipp_errors.log"), *extra]
    return subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
