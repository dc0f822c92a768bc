"""Rerun the issue-13 attack set against a live ``ivr serve`` on loopback.

Starts a private redis-server with a password (the queue store), adds one
agent, starts ``ivr serve`` with every listener (AudioSocket, WebSocket,
/metrics, desktop) and runs each attack with a bounded count and time. An
attack *holds* when the server refuses it, survives it and keeps serving
calls; it *fails* otherwise. Prints one line per attack, held/failed
counts, and writes bench/results/security.json.

    python bench/security.py            # ~2-3 minutes on 2 cores
    python bench/security.py -k desktop # only attacks whose name contains 'desktop'
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.transports.audiosocket import KIND_AUDIO, KIND_HANGUP, KIND_UUID, encode_frame  # noqa: E402
from ivr.transports.callers import audiosocket_call  # noqa: E402

PASSWORD = "correct horse battery"
REDIS_PW = "bench-Redis-s3cret"
AGENT_CALL = [("silence", 0.5), ("dtmf", "1"), ("wait_reply", 8.0), ("dtmf", "9"), ("silence", 6.0)]
SHORT_CALL = [("silence", 1.5)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    tmp: Path
    redis: subprocess.Popen
    redis_url: str
    serve: subprocess.Popen | None = None
    addrs: dict[str, tuple[str, int]] = field(default_factory=dict)
    stderr_path: Path | None = None

    @property
    def desk(self) -> str:
        h, p = self.addrs["desktop"]
        return f"http://{h}:{p}"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path else ""

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.serve.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def records(self) -> list[tuple]:
        with sqlite3.connect(self.tmp / "calls.sqlite3") as db:
            return db.execute("SELECT call_id, outcome, end_reason FROM calls").fetchall()


def ivr(*argv: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ivr", *argv], input=stdin, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})


def start(tmp: Path) -> Live:
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--requirepass", REDIS_PW, "--dir", str(tmp)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live = Live(tmp, redis, f"redis://:{REDIS_PW}@127.0.0.1:{port}/0")
    for _ in range(100):
        if ivr("agents", "list", "--store", live.redis_url).returncode == 0:
            break
        time.sleep(0.1)
    p = ivr("agents", "add", "alice", "--name", "Alice", "--password-stdin", "--store", live.redis_url, stdin=PASSWORD + "\n")
    (tmp / "agents_add.txt").write_text(p.stdout + p.stderr)
    live.stderr_path = tmp / "serve.stderr"
    desk = free_port()
    settings = tmp / "ivr.toml"
    settings.write_text('[session]\nstore_retry_s = 6.0\nstore_retry_every_s = 1.0\nemergency_number = "0800-000-123"\n')
    cmd = [sys.executable, "-m", "ivr", "serve", "--audiosocket", "127.0.0.1:0", "--websocket", "127.0.0.1:0",
           "--metrics", "127.0.0.1:0", "--desktop", f"127.0.0.1:{desk}", "--flows", str(ROOT / "flows"),
           "--engine", "fake", "--tts", "espeak", "--records", str(tmp / "calls.sqlite3"),
           "--queue", live.redis_url, "--bank", str(tmp / "bank.sqlite3"), "--drain", "2", "--config", str(settings)]
    live.serve = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=live.stderr_path.open("w"), text=True, cwd=tmp)
    deadline = time.monotonic() + 600
    for line in live.serve.stdout:
        m = re.match(r"(\w+): (.+):(\d+)$", line.strip())
        if m:
            live.addrs[m.group(1)] = (m.group(2), int(m.group(3)))
        if line.strip() == "ready" or time.monotonic() > deadline:
            break
    if "desktop" not in live.addrs:
        raise SystemExit(f"ivr serve did not start:\n{live.stderr()[-3000:]}")
    return live


async def call_works(live: Live) -> bool:
    """A normal call still gets the greeting."""
    r = await audiosocket_call(*live.addrs["audiosocket"], SHORT_CALL, max_seconds=30)
    return len(r.received) > 10


def first_audio_delay(r) -> float | None:
    return r.received[0][0] if r.received else None


# -- the attacks ------------------------------------------------------------
async def audiosocket_garbage(live: Live) -> tuple[bool, str]:
    addr = live.addrs["audiosocket"]
    rng = np.random.default_rng(1)
    before = len(live.stderr())
    for i in range(40):
        _r, w = await asyncio.open_connection(*addr)
        if i % 2:
            w.write(encode_frame(KIND_UUID, uuid.uuid4().bytes))
        w.write(rng.bytes(500) + encode_frame(KIND_AUDIO, b"\x01" * 3) * 200 + b"\x10\xff\xff" + rng.bytes(20))
        await w.drain()
        w.close()
    grown = len(live.stderr()) - before
    return await call_works(live) and grown < 40_000, f"40 garbage connections, log grew {grown} bytes"


async def garbage_log_volume(live: Live) -> tuple[bool, str]:
    before = len(live.stderr())
    _r, w = await asyncio.open_connection(*live.addrs["audiosocket"])
    w.write(encode_frame(KIND_UUID, uuid.uuid4().bytes) + encode_frame(KIND_AUDIO, b"\x00\x01\x02") * (20_000 // 6)
            + encode_frame(KIND_HANGUP))
    await w.drain()
    await asyncio.sleep(2.0)
    w.close()
    grown = len(live.stderr()) - before
    return grown < 5_000, f"20 KB of bad frames -> {grown} bytes of log (was 510 KB)"


async def idle_connections(live: Live) -> tuple[bool, str]:
    conns = [await asyncio.open_connection(*live.addrs["audiosocket"]) for _ in range(200)]
    ok = await call_works(live)
    for _, w in conns:
        w.close()
    return ok, "200 idle AudioSocket connections, then a call"


async def websocket_huge_message(live: Live) -> tuple[bool, str]:
    from websockets.asyncio.client import connect

    h, p = live.addrs["websocket"]
    try:
        async with connect(f"ws://{h}:{p}/", max_size=None) as ws:
            await ws.send("x" * (50 * 2**20))
            await asyncio.wait_for(ws.recv(), 10)
    except Exception:
        pass
    return await call_works(live), "one 50 MB WebSocket message"


async def websocket_nested_json(live: Live) -> tuple[bool, str]:
    from websockets.asyncio.client import connect

    h, p = live.addrs["websocket"]
    sid = "CAnest" + uuid.uuid4().hex
    got_after = 0
    async with connect(f"ws://{h}:{p}/", max_size=None) as ws:
        await ws.send(json.dumps({"event": "start", "start": {"callSid": sid, "streamSid": "MZ1"}}))
        await ws.send("[" * 500_000)
        t_end = time.monotonic() + 4.0
        try:
            while time.monotonic() < t_end:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 4.0))
                got_after += msg.get("event") == "media"
        except Exception:
            pass
        await ws.send(json.dumps({"event": "stop"}))
    logged = "nested too deeply" in live.stderr()
    return got_after > 20 and logged, f"{got_after} media messages after a 500k-deep message; warning logged: {logged}"


async def desktop_unauthenticated(live: Live) -> tuple[bool, str]:
    async with httpx.AsyncClient(base_url=live.desk) as c:
        codes = [(await c.get(p)).status_code for p in ("/api/me", "/api/queues", "/api/supervisor", "/api/tickets/x")]
        codes += [(await c.post(p, json={})).status_code for p in ("/api/status", "/api/tickets/x/accept")]
    return set(codes) == {401}, f"codes {codes}"


async def desktop_url_token_and_origin(live: Live) -> tuple[bool, str]:
    import websockets

    async with httpx.AsyncClient(base_url=live.desk) as c:
        r = await c.post("/api/login", json={"agent_id": "alice", "password": PASSWORD})
        token = r.json()["token"]
        url_tok = (await c.get(f"/api/me?token={token}", cookies={})).status_code
        evil = (await c.post("/api/status", json={"status": "away"}, headers={"Origin": "http://evil.example"})).status_code
    codes = []
    ws = live.desk.replace("http", "ws") + "/ws"
    for url, hdrs in ((ws + f"?token={token}", {}), (ws, {"Cookie": f"ivr_session={token}", "Origin": "http://evil.example"})):
        try:
            async with websockets.connect(url, additional_headers=hdrs):
                codes.append(101)
        except websockets.exceptions.InvalidStatus as e:
            codes.append(e.response.status_code)
    return url_tok == 400 and evil == 403 and codes == [403, 403], f"?token= {url_tok}, cross-origin POST {evil}, ws {codes}"


async def desktop_lockout_of_real_agent(live: Live) -> tuple[bool, str]:
    async with httpx.AsyncClient(base_url=live.desk, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")) as c:
        codes = [(await c.post("/api/login", json={"agent_id": "alice", "password": f"guess{i}"})).status_code for i in range(12)]
    async with httpx.AsyncClient(base_url=live.desk, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.3")) as c:
        real = (await c.post("/api/login", json={"agent_id": "alice", "password": PASSWORD})).status_code
    return real == 200 and 429 in codes, f"attacker codes {sorted(set(codes))}, real agent from another address {real}"


async def desktop_login_flood_vs_calls(live: Live) -> tuple[bool, str]:
    base = await audiosocket_call(*live.addrs["audiosocket"], SHORT_CALL, max_seconds=30)
    rss0 = live.rss_mb()
    stop = asyncio.Event()
    codes: dict[int, int] = {}

    async def flood(ip: str) -> None:
        async with httpx.AsyncClient(base_url=live.desk, timeout=30,
                                     transport=httpx.AsyncHTTPTransport(local_address=ip)) as c:
            i = 0
            while not stop.is_set():
                i += 1
                body = {"agent_id": "alice" if i % 3 == 0 else f"ghost{i}", "password": "x" * 200}
                try:
                    code = (await c.post("/api/login", json=body)).status_code
                except httpx.HTTPError:
                    code = 0
                codes[code] = codes.get(code, 0) + 1

    floods = [asyncio.ensure_future(flood(f"127.0.{k}.{j}")) for k in range(1, 3) for j in range(2, 6)]
    await asyncio.sleep(1.0)
    during = await audiosocket_call(*live.addrs["audiosocket"], SHORT_CALL, max_seconds=30)
    rss1 = live.rss_mb()
    stop.set()
    await asyncio.gather(*floods, return_exceptions=True)
    d0, d1 = first_audio_delay(base), first_audio_delay(during)
    held = d1 is not None and d0 is not None and d1 < d0 + 1.0 and rss1 - rss0 < 150
    return held, (f"first audio {d0:.2f} s -> {d1:.2f} s during a flood of {sum(codes.values())} logins "
                  f"(codes {dict(sorted(codes.items()))}); RSS {rss0:.0f} -> {rss1:.0f} MB")


async def desktop_traversal_and_sqli(live: Live) -> tuple[bool, str]:
    async with httpx.AsyncClient(base_url=live.desk) as c:
        trav = [(await c.get(p)).text for p in ("/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/static/../../etc/passwd")]
        sqli = (await c.post("/api/login", json={"agent_id": "alice' OR '1'='1", "password": "' OR 1=1 --"})).status_code
    return not any("root:" in t for t in trav) and sqli in (401, 429), f"traversal bodies clean, SQLi login {sqli}"


async def redis_password_hidden(live: Live) -> tuple[bool, str]:
    async with httpx.AsyncClient(base_url=live.desk, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.9")) as c:
        await c.post("/api/login", json={"agent_id": "alice", "password": PASSWORD})
        body = (await c.get("/api/tickets/no-such-ticket")).text
    cli = (live.tmp / "agents_add.txt").read_text() + ivr("agents", "list", "--store", live.redis_url).stdout
    leaks = [where for where, text in (("404 body", body), ("ivr agents", cli), ("serve log", live.stderr()))
             if REDIS_PW in text]
    return not leaks, f"leaks: {leaks or 'none'}"


async def metrics_slowloris(live: Live) -> tuple[bool, str]:
    h, p = live.addrs["metrics"]
    r, w = await asyncio.open_connection(h, p)
    w.write(b"GET /metrics HTTP/1.1\r\n")
    t0 = time.monotonic()
    closed = False
    for i in range(6):
        try:
            w.write(f"X-{i}: 1\r\n".encode())
            await w.drain()
            data = await asyncio.wait_for(r.read(4096), 2.0)
            if data == b"" or data.startswith(b"HTTP/1.1 408"):
                closed = True
                break
        except TimeoutError:
            continue
        except ConnectionError:
            closed = True
            break
    w.close()
    return closed, f"slow header client cut off after {time.monotonic() - t0:.1f} s" if closed else "still open after 12 s"


async def hung_redis_mid_call(live: Live) -> tuple[bool, str]:
    os.kill(live.redis.pid, signal.SIGSTOP)
    try:
        r = await audiosocket_call(*live.addrs["audiosocket"], AGENT_CALL + [("silence", 20.0)], max_seconds=60)
        h, p = live.addrs["metrics"]
        async with httpx.AsyncClient() as c:
            hz = await c.get(f"http://{h}:{p}/healthz", timeout=10)
    finally:
        os.kill(live.redis.pid, signal.SIGCONT)
    rec = {row[0]: row for row in live.records()}.get(r.call_id)
    times = [t for t, _ in r.received]
    # after the caller pressed 9: the longest stretch without bot audio
    after = [t for t in times if t > 2.0]
    gap = max(np.diff(after), default=99.0) if len(after) > 1 else 99.0
    held = bool(rec and rec[2] == "store_outage" and gap < 1.5 and hz.status_code == 503 and r.hung_up_by_bot)
    return held, (f"record {rec and rec[1:]}, longest silence after the menu {gap:.2f} s, "
                  f"/healthz {hz.status_code} {hz.json().get('status')}")


async def hostile_cli(live: Live) -> tuple[bool, str]:
    d = live.tmp / "hostile"
    (d / "deep").mkdir(parents=True, exist_ok=True)
    (d / "deep" / "main.yaml").write_text("flow: " + "[" * 100_000 + "]" * 100_000)
    (d / "nul").mkdir(exist_ok=True)
    (d / "nul" / "main.yaml").write_bytes(b"flow: a\x00\n")
    (d / "sc").mkdir(exist_ok=True)
    (d / "sc" / "zero.yaml").write_text("name: z\nturns:\n  - audio: /dev/zero\n")
    (d / "sc" / "pw.yaml").write_text("name: p\nturns:\n  - audio: ../../../../../../etc/passwd\n")
    h, port = live.addrs["audiosocket"]
    runs = [["validate", str(d / "deep")], ["validate", str(d / "nul")], ["test", str(d / "sc" / "zero.yaml")],
            ["test", str(d / "sc" / "pw.yaml")], ["serve", "--audiosocket", f"{h}:{port}", "--queue", "none"]]
    bad = []
    for argv in runs:
        p = ivr(*argv)
        if p.returncode != 2 or "Traceback" in p.stderr or len(p.stderr.strip().splitlines()) != 1:
            bad.append(argv[0])
    return not bad, f"{len(runs)} hostile CLI runs, failing: {bad or 'none'}"


ATTACKS: list[tuple[str, Callable[[Live], Awaitable[tuple[bool, str]]]]] = [
    ("audiosocket garbage frames", audiosocket_garbage),
    ("audiosocket garbage log volume", garbage_log_volume),
    ("audiosocket 200 idle connections", idle_connections),
    ("websocket 50 MB message", websocket_huge_message),
    ("websocket deeply nested JSON", websocket_nested_json),
    ("desktop without login", desktop_unauthenticated),
    ("desktop token in URL / cross origin", desktop_url_token_and_origin),
    ("desktop lock-out of a real agent", desktop_lockout_of_real_agent),
    ("desktop login flood vs live calls", desktop_login_flood_vs_calls),
    ("desktop traversal and SQL injection", desktop_traversal_and_sqli),
    ("redis password in responses/CLI/logs", redis_password_hidden),
    ("metrics slow client", metrics_slowloris),
    ("hung redis (SIGSTOP) mid-call", hung_redis_mid_call),
    ("hostile files on the CLI", hostile_cli),
]


async def run_all(live: Live, pattern: str | None, per_attack: float) -> list[dict]:
    out = []
    for name, fn in ATTACKS:
        if pattern and pattern not in name:
            continue
        t0 = time.monotonic()
        try:
            held, detail = await asyncio.wait_for(fn(live), per_attack)
        except Exception as e:  # an attack that crashes our harness counts as failed, with why
            held, detail = False, f"{type(e).__name__}: {str(e)[:200]}"
        alive = live.serve.poll() is None
        held = held and alive
        row = {"attack": name, "held": held, "detail": detail + ("" if alive else " (ivr serve died)"),
               "seconds": round(time.monotonic() - t0, 2)}
        print(f"{'held  ' if held else 'FAILED'} {name}: {row['detail']}", flush=True)
        out.append(row)
        if not alive:
            break
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", dest="pattern", default=None, help="only attacks whose name contains this")
    ap.add_argument("--per-attack", type=float, default=90.0, help="time limit per attack in seconds")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "security.json")
    args = ap.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("needs redis-server (Debian package redis-server)")
    tmp = Path(tempfile.mkdtemp(prefix="ivr-security-"))
    live = start(tmp)
    try:
        rows = asyncio.run(run_all(live, args.pattern, args.per_attack))
    finally:
        live.serve.send_signal(signal.SIGTERM)
        try:
            live.serve.wait(30)
        except subprocess.TimeoutExpired:
            live.serve.kill()
        os.kill(live.redis.pid, signal.SIGCONT)
        live.redis.terminate()
        live.redis.wait(5)
    held = sum(r["held"] for r in rows)
    print(f"\n{held} held, {len(rows) - held} failed of {len(rows)} attacks")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"held": held, "failed": len(rows) - held, "attacks": rows,
                                    "machine": {"cpus": os.cpu_count()}}, ensure_ascii=False, indent=2) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if held == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
