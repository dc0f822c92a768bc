"""Supervisor numbers across a cluster: two workers (two records stores with
different worker ids, two handoff services on one real Redis) write calls and
queue events into one real PostgreSQL; a third reader (the desktop, or a
report) computes service level, abandonment, AHT, per-agent numbers and the
self-service rate from PostgreSQL alone. A reporting database that stops
mid-load costs no handoff and loses no event."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from ivr.handoff import HandoffService, open_store
from ivr.handoff.stats import cluster_report
from ivr.handoff.store.reporting import ReportingStore
from ivr.session.records import CallRecord, RecordWriter
from ivr.session.records_pg import PgRecordStore
from tests.handoff.conftest import FakeTime
from tests.handoff.helpers import add_agent, bundle


def _worker(redis_url: str, pg_url: str, worker: str, prefix: str, clock: FakeTime
            ) -> tuple[HandoffService, PgRecordStore]:
    records = PgRecordStore(pg_url, worker=worker)
    queue = ReportingStore(open_store(redis_url, prefix=prefix), records)
    return HandoffService(queue, now=clock), records


def _call(records: PgRecordStore, call_id: str, outcome: str, duration: float, started: float) -> None:
    pen = RecordWriter(records, CallRecord(call_id, "audiosocket", "", "zh-TW", started))
    pen.event("turn", 1.0, slot="menu", text="查餘額")
    pen.finish(outcome, "completed", duration, "zh-TW")


async def test_two_workers_one_report(pg_server, redis_url: str) -> None:
    pg_url = pg_server.new_database("kpi")
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    clock = FakeTime(time.time())
    since = clock() - 1
    a, rec_a = _worker(redis_url, pg_url, "w-a", prefix, clock)
    b, rec_b = _worker(redis_url, pg_url, "w-b", prefix, clock)
    try:
        await add_agent(a, "amy")                      # logged in through worker A's desktop
        # worker A: two self-served calls and one handed off; worker B: one self-served, one abandoned in queue
        _call(rec_a, "a1", "self_served", 30.0, clock())
        _call(rec_a, "a2", "self_served", 50.0, clock())
        _call(rec_b, "b1", "self_served", 40.0, clock())
        t1 = await b.enqueue(bundle("a3"), "T1")       # queued by worker B, offered at once to amy (state in Redis)
        assert (await a.status(t1)).offered_to == "amy"
        t2 = await a.enqueue(bundle("b2"), "T1")       # second caller waits: amy is ringing
        clock.advance(5)
        await a.accept("amy", t1)                      # answered after 5 s: within the 20 s service level
        clock.advance(30)
        assert await b.cancel(t2)                      # caller b2 hangs up after 35 s in queue
        clock.advance(60)
        await a.wrap_up("amy", t1, "resolved")         # handle time 90 s
        _call(rec_a, "a3", "handed_off", 120.0, clock())
        _call(rec_b, "b2", "abandoned", 60.0, clock())
        await a.record_call_outcome("contained", "a1")
        clock.advance(1)

        reader = PgRecordStore(pg_url)                 # a third process: the desktop or a report
        try:
            report = cluster_report(reader, a.queues, since, clock())
        finally:
            reader.close()
        t1row = next(q for q in report["queues"] if q["name"] == "T1")
        assert (t1row["answered"], t1row["abandoned"]) == (1, 1)
        assert t1row["service_level"] == 0.5 and t1row["abandonment_rate"] == 0.5
        assert t1row["average_handle_time"] == 90.0 and t1row["average_speed_of_answer"] == 5.0
        (amy,) = report["agents"]
        assert (amy["id"], amy["offered"], amy["accepted"], amy["handled"]) == ("amy", 1, 1, 1)
        assert amy["resolution_rate"] == 1.0 and amy["reply_speed"] == 5.0
        calls = report["calls"]
        assert calls["calls"] == 5 and calls["self_service_rate"] == 0.6
        assert report["totals"]["self_service_rate"] == 0.6
        assert calls["workers"]["w-a"]["outcomes"] == {"handed_off": 1, "self_served": 2}
        assert calls["workers"]["w-b"]["outcomes"] == {"abandoned": 1, "self_served": 1}
        assert calls["workers"]["w-a"]["self_service_rate"] == pytest.approx(2 / 3, abs=1e-4)

        # the desktop's numbers (HandoffService.stats) come from PostgreSQL too, whichever worker serves it
        stats = await b.stats()
        t1stats = next(q for q in stats["queues"] if q["name"] == "T1")
        assert (t1stats["answered"], t1stats["abandoned"], t1stats["average_handle_time"]) == (1, 1, 90.0)
        assert stats["totals"]["outcomes"] == {"contained": 1}
        workers = {e["worker"] for e in _rows(pg_url, "SELECT worker AS w FROM handoff_events")}
        assert workers == {"w-a", "w-b"}  # each worker wrote the events it caused
    finally:
        a.store.clear()
        for svc, rec in ((a, rec_a), (b, rec_b)):
            svc.store.close()
            rec.close()


def _rows(url: str, sql: str) -> list[dict]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as c:
        return [{"worker": r["w"]} for r in c.execute(sql).fetchall()]


async def test_reporting_database_down_mid_load_loses_nothing(redis_url: str) -> None:
    from tests.pg_server import remove, start_postgres

    server = start_postgres()  # its own server: this test stops it
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    clock = FakeTime(time.time())
    since = clock() - 1
    try:
        url = server.new_database("down")
        records = PgRecordStore(url, worker="w1", retry_after=0.2)
        store = ReportingStore(open_store(redis_url, prefix=prefix), records)
        svc = HandoffService(store, now=clock)
        await add_agent(svc, "bob")
        server.stop("fast")
        tickets = [await svc.enqueue(bundle(f"c{i}"), "T1") for i in range(3)]  # handoffs go on
        clock.advance(3)
        await svc.accept("bob", tickets[0])
        assert store.backlog >= 4 and store.failures >= 1
        assert (await svc.stats())["queues"][0]["answered"] == 1  # read from Redis meanwhile
        server.start()
        for _ in range(150):  # bounded: 30 s
            if store.flush():
                break
            await asyncio.sleep(0.2)
        assert store.backlog == 0
        kinds = [e["type"] for e in records.handoff_events(since)]
        assert kinds.count("enqueued") == 3 and kinds.count("accepted") == 1 and kinds.count("offered") == 1
        store.clear()
        store.close()
        records.close()
    finally:
        remove(server)
