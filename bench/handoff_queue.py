"""Handoff queue benchmark: sustained handoffs per second and offer latency
on each store: SQLite with synchronous FULL and NORMAL, Redis with AOF
appendfsync always and everysec.

One worker process, a pool of agents that accept and wrap up each call as
soon as it is offered. For every caller: ``enqueue`` (which offers the call
at once to the longest-idle free agent) is timed as the offer latency; the
handoff rate counts full cycles enqueue → offer → accept → wrap-up. A second
phase queues callers with no agent logged in (pure durable write path).

    python bench/handoff_queue.py                  # -> bench/results/handoff_queue.json
    python bench/handoff_queue.py --calls 2000 --agents 20
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.handoff import ContextBundle, HandoffService, TranscriptTurn, open_store  # noqa: E402

OUT = ROOT / "bench" / "results" / "handoff_queue.json"


def _bundle(i: int) -> ContextBundle:
    return ContextBundle(call_id=f"bench-{i}", caller_number="0912345678", intent="check_balance",
                         slots={"account_last4": "1234"}, path=("main.menu", "balance.ask"),
                         transcript=tuple(TranscriptTurn(k * 2.0, "caller" if k % 2 else "bot", "查詢餘額" * 3) for k in range(8)))


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def _run(url: str, calls: int, agents: int, **store_kw) -> dict:
    store = open_store(url, **store_kw)
    store.clear()
    svc = HandoffService(store, offer_timeout=3600)
    for a in range(agents):
        await svc.add_agent(f"b{a:03d}", f"Bench {a}", "bench-password", tier="T1")
        await svc.set_status(f"b{a:03d}", "available")
    offer_ms: list[float] = []
    t0 = time.perf_counter()
    for i in range(calls):
        s = time.perf_counter()
        t = await svc.enqueue(_bundle(i), "T1")
        offer_ms.append((time.perf_counter() - s) * 1000)
        cur = await svc.status(t)
        assert cur.offered_to, "every call should be offered at once"
        await svc.accept(cur.offered_to, t)
        await svc.wrap_up(cur.offered_to, t, "resolved")
    cycle_s = time.perf_counter() - t0

    for a in range(agents):
        await svc.set_status(f"b{a:03d}", "away")
    enq_ms: list[float] = []
    t0 = time.perf_counter()
    for i in range(calls):
        s = time.perf_counter()
        await svc.enqueue(_bundle(calls + i), "T1")
        enq_ms.append((time.perf_counter() - s) * 1000)
    enq_s = time.perf_counter() - t0
    assert len(store.waiting("T1")) == calls
    store.clear()
    store.close()
    return {
        "calls": calls, "agents": agents,
        "handoffs_per_s": round(calls / cycle_s, 1),
        "offer_latency_ms": {"p50": round(_pct(offer_ms, 50), 2), "p99": round(_pct(offer_ms, 99), 2), "max": round(max(offer_ms), 2)},
        "enqueue_only_per_s": round(calls / enq_s, 1),
        "enqueue_latency_ms": {"p50": round(_pct(enq_ms, 50), 2), "p99": round(_pct(enq_ms, 99), 2)},
    }


def _redis(tmp: Path):
    exe = shutil.which("redis-server")
    if not exe:
        return None, None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp), "--save", "",
                             "--appendonly", "yes", "--appendfsync", "always"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    r = redis.Redis(port=port)
    for _ in range(100):
        try:
            r.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    return None, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--agents", type=int, default=10)
    args = ap.parse_args()
    results: dict = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
                     "method": __doc__.split("\n\n")[1].replace("\n", " "), "stores": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, url, kw in (("sqlite_full", f"sqlite:///{tmp / 'full.db'}", {"synchronous": "FULL"}),
                              ("sqlite_normal", f"sqlite:///{tmp / 'normal.db'}", {"synchronous": "NORMAL"})):
            results["stores"][name] = r = asyncio.run(_run(url, args.calls, args.agents, **kw))
            print(f"{name:18s} {r['handoffs_per_s']:7.1f} handoffs/s  offer p50 {r['offer_latency_ms']['p50']:.2f} ms "
                  f"p99 {r['offer_latency_ms']['p99']:.2f} ms  enqueue-only {r['enqueue_only_per_s']:.1f}/s")
        proc, url = _redis(tmp)
        if proc is None:
            print("redis-server not installed: skipping Redis")
        else:
            import redis

            try:
                for fsync in ("always", "everysec"):
                    redis.Redis.from_url(url).config_set("appendfsync", fsync)
                    name = f"redis_aof_{fsync}"
                    results["stores"][name] = r = asyncio.run(_run(url, args.calls, args.agents, prefix="bench:"))
                    print(f"{name:18s} {r['handoffs_per_s']:7.1f} handoffs/s  offer p50 {r['offer_latency_ms']['p50']:.2f} ms "
                          f"p99 {r['offer_latency_ms']['p99']:.2f} ms  enqueue-only {r['enqueue_only_per_s']:.1f}/s")
            finally:
                proc.terminate()
                proc.wait(5)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
