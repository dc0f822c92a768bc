"""Call-record write benchmark: what one call's record costs the call loop on
each store. SQLite (the embedded default, WAL) and PostgreSQL (a real server
started here on loopback with pg_ctl, through the psycopg 3 pool).

A call is written as the session writes it (``RecordWriter``): its row, 40
events (prompts and turns with realistic text), its outcome. Every store call
is timed where the call loop would wait for it; CPU seconds of this process
per call are reported as well (the server's CPU is not counted: PostgreSQL
runs in its own processes).

    python bench/records_store.py                  # -> bench/results/records_store.json
    python bench/records_store.py --calls 500
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.session.records import CallRecord, CallRecords, RecordWriter, open_records  # noqa: E402

OUT = ROOT / "bench" / "results" / "records_store.json"
EVENTS_PER_CALL = 40


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


class Timed:
    """Wraps a store: every write the call loop would wait for, timed."""

    def __init__(self, store: CallRecords) -> None:
        self.store = store
        self.keep_audio = False
        self.ms: list[float] = []

    def _t(self, fn, *a):
        s = time.perf_counter()
        try:
            return fn(*a)
        finally:
            self.ms.append((time.perf_counter() - s) * 1000)

    def begin(self, record):
        return self._t(self.store.begin, record)

    def add_event(self, call_id, event):
        return self._t(self.store.add_event, call_id, event)

    def finish(self, record):
        return self._t(self.store.finish, record)

    def audio_path(self, call_id, side):
        return None


def run(store: CallRecords, calls: int) -> dict:
    timed = Timed(store)
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(calls):
        pen = RecordWriter(timed, CallRecord(f"bench-{i}-{time.time_ns()}", "audiosocket", "0912345678", "zh-TW",
                                             time.time()))
        for k in range(EVENTS_PER_CALL // 2):
            pen.event("prompt", k * 2.0, key=f"menu.ask{k}", text="請問您要查詢餘額、掛失卡片，還是轉接專人？", heard=1.8)
            pen.event("turn", k * 2.0 + 1.2, slot="menu", text="我要查餘額", confidence=0.91, dtmf=None)
        pen.finish("self_served", "completed", 60.0, "zh-TW")
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"calls": calls, "writes": len(timed.ms), "write_ms_p50": round(_pct(timed.ms, 50), 3),
            "write_ms_p99": round(_pct(timed.ms, 99), 3), "write_ms_max": round(max(timed.ms), 3),
            "calls_per_s": round(calls / wall, 1), "cpu_ms_per_call": round(cpu / calls * 1000, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_records(f"sqlite:///{tmp}/calls.sqlite3")
        results["sqlite"] = run(store, args.calls)
        store.close()
    sys.path.insert(0, str(ROOT))
    from tests.pg_server import remove, start_postgres

    server = start_postgres(durable=True)  # fsync on, synchronous_commit on: every event durable when written
    try:
        store = open_records(server.new_database("bench"), worker="bench")
        results["postgresql"] = run(store, args.calls)
        store.close()
    finally:
        remove(server)
    for name, r in results.items():
        print(f"{name:10s} {r['calls']} calls x {EVENTS_PER_CALL + 2} writes: write p50 {r['write_ms_p50']} ms, "
              f"p99 {r['write_ms_p99']} ms, max {r['write_ms_max']} ms; {r['calls_per_s']} calls/s; "
              f"{r['cpu_ms_per_call']} ms CPU per call (this process)")
    doc = {"bench": "records_store", "events_per_call": EVENTS_PER_CALL, "results": results,
           "postgres_fsync": True, "load_average_1m": os.getloadavg()[0], "python": platform.python_version(),
           "note": "no goal is set for record writes; the cluster benchmark (bench/cluster.py) is not written yet"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
