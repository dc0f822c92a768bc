"""``ivr serve`` as a process: listens, serves /metrics, and on SIGTERM
hands the call in flight to the agent queue and exits cleanly."""
from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from ivr.transports import audiosocket_call

ROOT = Path(__file__).resolve().parents[2]


def test_serve_drains_on_sigterm(tmp_path):
    cmd = [sys.executable, "-m", "ivr", "serve", "--audiosocket", "127.0.0.1:0", "--websocket", "127.0.0.1:0",
           "--metrics", "127.0.0.1:0", "--flows", str(ROOT / "flows"), "--engine", "fake",
           "--records", str(tmp_path / "calls.sqlite3"), "--queue", f"sqlite:///{tmp_path / 'queue.sqlite3'}",
           "--bank", str(tmp_path / "bank.sqlite3"), "--drain", "1",
           "--no-prewarm"]  # this test is about draining; prewarming all prompts with Kokoro takes minutes cold
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    # bounded: a server that never says "ready" is killed, so reading its stdout ends
    watchdog = threading.Timer(180, proc.kill)
    watchdog.start()
    try:
        addrs = {}
        for line in proc.stdout:
            m = re.match(r"(\w+): (.+):(\d+)$", line.strip())
            if m:
                addrs[m.group(1)] = (m.group(2), int(m.group(3)))
            if line.strip() == "ready":
                break
        assert {"audiosocket", "websocket", "metrics"} <= set(addrs), proc.stderr.read()
        mh, mp = addrs["metrics"]
        assert b"ivr_calls_active" in urllib.request.urlopen(f"http://{mh}:{mp}/metrics", timeout=5).read()

        async def call_then_sigterm():
            task = asyncio.ensure_future(audiosocket_call(*addrs["audiosocket"], [("silence", 60.0)]))
            await asyncio.sleep(2.0)
            proc.send_signal(signal.SIGTERM)
            return await asyncio.wait_for(task, 30)

        result = asyncio.run(call_then_sigterm())
        assert result.hung_up_by_bot and result.received  # heard the greeting, then released
        assert proc.wait(30) == 0
        assert "stopped; calls by outcome: {'handed_off': 1}" in proc.stdout.read()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(tmp_path / "calls.sqlite3") as db:
        assert db.execute("SELECT outcome, end_reason FROM calls").fetchall() == [("handed_off", "shutdown")]
    from ivr.handoff import open_store

    store = open_store(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    try:
        (ticket,) = store.live_tickets()  # waiting for an agent, with the call's context
        bundle = store.get_bundle(ticket.id)
        assert ticket.queue == "T1" and bundle["reason"] == "shutdown" and bundle["transcript"]
    finally:
        store.close()
