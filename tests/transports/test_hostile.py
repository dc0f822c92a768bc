"""Hostile peers on a running server: a message nested a million deep does not
end the call, garbage costs a few log lines instead of one per frame, and a
slow /metrics client is timed out."""
from __future__ import annotations

import io
import json
import logging
import socket
import time
import uuid

import pytest

from ivr.log import LimitedLog, RepeatFilter
from ivr.session import CallRecordStore
from ivr.transports.audiosocket import KIND_AUDIO, KIND_UUID, encode_frame
from tests.transports.servers import ServerThread, fake_services


@pytest.fixture(scope="module")
def server():
    srv = ServerThread(fake_services(CallRecordStore()))
    yield srv
    srv.stop()


def _wait(pred, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_deeply_nested_json_is_skipped_not_the_end_of_the_call(server, log_stream):
    from websockets.sync.client import connect

    host, port = server.listening.websocket
    sid = "CAdeep" + uuid.uuid4().hex
    with connect(f"ws://{host}:{port}/", open_timeout=5, close_timeout=2, max_size=None) as ws:
        ws.send(json.dumps({"event": "start", "start": {"callSid": sid, "streamSid": "MZ1"}}))
        assert _wait(lambda: sid in server.server.calls)
        ws.send("[" * 500_000)                       # RecursionError inside json.loads
        ws.send('{"a":' * 150_000 + "1" + "}" * 150_000)  # under the 1 MB message cap
        time.sleep(0.5)
        assert sid in server.server.calls, "the call ended on a nested message"
        ws.send(json.dumps({"event": "stop"}))
    assert _wait(lambda: sid not in server.server.calls)
    rec = server.services.records.get(sid)
    assert rec is not None and rec.end_reason == "hangup"
    text = log_stream.getvalue()
    assert "nested too deeply" in text and "Traceback" not in text


def test_garbage_frames_cost_a_few_log_lines(server, log_stream):
    addr = server.listening.audiosocket
    garbage = b"".join(encode_frame(KIND_AUDIO, b"\x01\x02\x03") for _ in range(20_000 // 6))  # odd-length audio
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(encode_frame(KIND_UUID, uuid.uuid4().bytes))
        s.sendall(garbage + b"\x00\x00\x00")  # then a hangup frame
        s.settimeout(10)
        try:
            while s.recv(65536):
                pass
        except (ConnectionResetError, TimeoutError):
            pass
    assert _wait(lambda: "problem(s) in all" in log_stream.getvalue())
    lines = [ln for ln in log_stream.getvalue().splitlines() if "odd length" in ln or "problem(s)" in ln]
    assert 1 <= len(lines) <= 10, len(lines)
    assert f"{20_000 // 6} problem(s) in all" in log_stream.getvalue()
    assert len(log_stream.getvalue()) < 5_000


def test_repeat_filter_counts_what_it_drops():
    now = [0.0]
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.addFilter(RepeatFilter(burst=2, window=10.0, clock=lambda: now[0]))
    lg = logging.getLogger("ivr.test.repeat")
    lg.handlers[:] = [handler]
    lg.propagate = False
    lg.setLevel(logging.INFO)
    for i in range(50):
        lg.warning("store down: %s", i)
    lg.info("info is never limited")
    now[0] = 11.0
    lg.warning("store down: %s", "again")
    out = buf.getvalue().splitlines()
    assert out == ["store down: 0", "store down: 1", "info is never limited",
                   "store down: again (+48 more like this in 10 s, not shown)"]


def test_limited_log_summarises_on_close():
    now = [0.0]
    buf = io.StringIO()
    lg = logging.getLogger("ivr.test.limited")
    lg.handlers[:] = [logging.StreamHandler(buf)]
    lg.propagate = False
    lim = LimitedLog(lg, "peer 1.2.3.4:5", burst=3, window=10.0, clock=lambda: now[0])
    for _ in range(100):
        lim.warning("bad frame")
    lim.close()
    lines = buf.getvalue().splitlines()
    assert lines[:3] == ["peer 1.2.3.4:5: bad frame"] * 3
    assert lines[3] == "peer 1.2.3.4:5: 100 problem(s) in all, 97 not shown one by one" and len(lines) == 4


def test_slow_metrics_client_is_timed_out(server):
    host, port = server.listening.metrics
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        t0 = time.monotonic()
        closed = False
        # one header line every 2 s: a slowloris that never finishes its request
        for i in range(12):
            try:
                s.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            s.settimeout(2.0)
            try:
                data = s.recv(4096)
                if data == b"" or b"408" in data or b"400" in data:
                    closed = True
                    break
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
                break
        assert closed, f"still open after {time.monotonic() - t0:.0f} s of a header line every 2 s"
    # and a normal scrape still works
    import httpx

    r = httpx.get(f"http://{host}:{port}/metrics", timeout=10)
    assert r.status_code == 200 and b"ivr_calls_active" in r.content


def test_healthz_reports_each_store_and_a_hung_redis(tmp_path):
    import os
    import signal

    import httpx

    from ivr.handoff import HandoffService, open_store
    from tests.redis_server import start_redis

    server = start_redis(tmp_path, password="pw-not-for-healthz")
    proc = server.proc
    try:
        url = server.url
        for _ in range(100):
            try:
                store = open_store(url, prefix="hz:", timeout=0.5)
                break
            except Exception:
                time.sleep(0.05)
        srv = ServerThread(fake_services(CallRecordStore(), handoff=HandoffService(store)))
        try:
            host, mport = srv.listening.metrics
            r = httpx.get(f"http://{host}:{mport}/healthz", timeout=10)
            assert r.status_code == 200 and r.json()["stores"]["handoff"]["ok"] is True
            os.kill(proc.pid, signal.SIGSTOP)
            r = httpx.get(f"http://{host}:{mport}/healthz", timeout=10)
            body = r.json()
            assert r.status_code == 503 and body["status"] == "degraded" and body["stores"]["handoff"]["ok"] is False
            assert "pw-not-for-healthz" not in r.text and "***" in body["stores"]["handoff"]["url"]
            os.kill(proc.pid, signal.SIGCONT)
            assert _wait(lambda: httpx.get(f"http://{host}:{mport}/healthz", timeout=10).status_code == 200)
        finally:
            srv.stop()
            store.close()
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(5)
