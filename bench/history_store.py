"""Caller-history benchmark: what history costs a call on each store. SQLite
(embedded, one file per worker) and PostgreSQL (shared by a cluster; a real
server started here on loopback with pg_ctl, fsync on, through the psycopg 3
pool).

The store is first filled with ``--customers`` customers' past calls (a few
each, over 90 days, some from shared numbers). Then, per call as the flows and
the session do it: ``summary`` by caller number (the ``customer_context`` a
flow calls at the start, on the caller's path: it waits for it), ``summary``
by customer id after identification, and ``record_call`` at the end (after
the caller is gone). Times are what the call would wait, per operation.

    python bench/history_store.py                  # -> bench/results/history_store.json
    python bench/history_store.py --calls 300 --customers 5000
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.history import CallerHistory  # noqa: E402

OUT = ROOT / "bench" / "results" / "history_store.json"
DAY = 86400.0
INTENTS = ("check_balance", "reset_password", "report_card_loss", "technical_support", "complaint")


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def _number(i: int) -> str:
    return f"09{i:08d}"


def _finished(call_id: str, caller: str, started: float, rng: random.Random) -> tuple[SimpleNamespace, dict]:
    queue = rng.choice(("", "", "T1", "T2", "T3"))
    rec = SimpleNamespace(call_id=call_id, transport="sip", caller=caller, started_wall=started, duration=90.0,
                          outcome="handed_off" if queue else "self_served",
                          events=[{"kind": "transfer", "queue": queue, "ticket": f"t-{call_id}"}] if queue else [])
    return rec, {"slots": {"customer_id": call_id.split("-")[1]}, "intent": rng.choice(INTENTS), "turns": []}


def fill(h: CallerHistory, customers: int, now: float) -> int:
    rng, n = random.Random(7), 0
    for c in range(customers):
        for k in range(rng.randint(1, 6)):
            rec, state = _finished(f"past-{c}-{k}", _number(c if k % 3 else c // 2), now - rng.random() * 90 * DAY, rng)
            h.store.add(h.contact_of(rec, state))
            n += 1
    return n


def run(h: CallerHistory, customers: int, calls: int, now: float) -> dict:
    rng = random.Random(11)
    by_number: list[float] = []
    by_customer: list[float] = []
    write: list[float] = []
    cpu0 = time.process_time()
    for i in range(calls):
        c = rng.randrange(customers)
        t = time.perf_counter()
        h.summary(caller=_number(c), call_id=f"now-{c}-{i}")
        by_number.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        h.summary(customer_id=str(c), caller=_number(c), call_id=f"now-{c}-{i}")
        by_customer.append((time.perf_counter() - t) * 1000)
        rec, state = _finished(f"now-{c}-{i}", _number(c), now, rng)
        t = time.perf_counter()
        assert h.record_call(rec, state) is not None
        write.append((time.perf_counter() - t) * 1000)
    cpu = time.process_time() - cpu0

    def stats(xs: list[float]) -> dict:
        return {"p50": round(_pct(xs, 50), 3), "p99": round(_pct(xs, 99), 3), "max": round(max(xs), 3)}

    return {"calls": calls, "summary_by_number_ms": stats(by_number), "summary_by_customer_ms": stats(by_customer),
            "record_call_ms": stats(write), "cpu_ms_per_call": round(cpu / calls * 1000, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    os.environ["IVR_HISTORY_KEY"] = "5a" * 32  # the shared store needs the cluster's key; the same for both
    now = time.time()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        h = CallerHistory.open(f"{tmp}/history.sqlite3", now=lambda: now)
        rows = fill(h, args.customers, now)
        results["sqlite"] = run(h, args.customers, args.calls, now)
        h.close()
    from tests.pg_server import remove, start_postgres

    server = start_postgres(durable=True)
    try:
        h = CallerHistory.open(server.new_database("hist"), now=lambda: now)
        fill(h, args.customers, now)
        results["postgresql"] = run(h, args.customers, args.calls, now)
        h.close()
    finally:
        remove(server)
    for name, r in results.items():
        print(f"{name:10s} {r['calls']} calls on {rows} past contacts: summary by number p50 "
              f"{r['summary_by_number_ms']['p50']} ms p99 {r['summary_by_number_ms']['p99']} ms; by customer p50 "
              f"{r['summary_by_customer_ms']['p50']} ms; record_call p50 {r['record_call_ms']['p50']} ms p99 "
              f"{r['record_call_ms']['p99']} ms; {r['cpu_ms_per_call']} ms CPU per call (this process)")
    doc = {"bench": "history_store", "past_contacts": rows, "customers": args.customers, "results": results,
           "postgres_fsync": True, "load_average_1m": os.getloadavg()[0], "python": platform.python_version(),
           "note": "no goal is set; summary is on the caller's path (the flow waits for customer_context)"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
