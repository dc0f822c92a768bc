"""Call identity against real SQLite files: a repeated call id (fixed Asterisk
UUIDs, a Twilio reconnect reusing its callSid) gets its own record and never
touches the earlier one; records a killed worker left open are closed at
start-up as ``interrupted`` and their queued tickets withdrawn."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

from ivr.clock import VirtualClock
from ivr.frames import DtmfDigit
from ivr.handoff import HandoffService
from ivr.handoff.store.sqlite_store import SqliteStore
from ivr.session import CallRecordStore
from ivr.session.owner import token
from ivr.session.recovery import recover_interrupted
from tests.session.session_fakes import FakeHandoff, to_frames
from tests.session.test_session import caller_audio, make_session, run_call

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def _balance_call(store, call_id="c1", handoff=None):
    clock = VirtualClock()
    audio = caller_audio([("silence", 3.0), ("speech", 1.0), ("silence", 2.0)])
    items = to_frames(audio) + [DtmfDigit(d, 7.0 + i * 0.3) for i, d in enumerate("6789")]
    s, _ = make_session(clock, items, script=[("我要查餘額", 0.9)], hold_open=True, store=store, call_id=call_id,
                        handoff=handoff)
    return await run_call(clock, s)


async def test_repeated_call_id_gets_its_own_record_and_keeps_the_first(tmp_path):
    path = tmp_path / "calls.sqlite3"
    first = await _balance_call(CallRecordStore(path), "8a2f0c1e-0000-4000-8123-456789012345")
    assert first.call_id == "8a2f0c1e-0000-4000-8123-456789012345" and first.outcome == "self_served"
    before = CallRecordStore(path).get(first.call_id)
    # the same PBX UUID again: from another store instance (a restarted worker) and from the same one
    store = CallRecordStore(path)
    second = await _balance_call(store, first.call_id)
    third = await _balance_call(store, first.call_id)
    assert second.call_id == first.call_id + "-a2" and third.call_id == first.call_id + "-a3"
    assert second.outcome == third.outcome == "self_served"
    again = CallRecordStore(path)
    assert again.call_ids() == [first.call_id, second.call_id, third.call_id]
    after = again.get(first.call_id)
    assert after.events == before.events and after.outcome == before.outcome and after.ended_wall == before.ended_wall
    assert len(again.get(second.call_id).events) == len(before.events)
    # the handoff context names the record's id, so the agent's ticket leads to this call, not the first
    handoff, clock = FakeHandoff(take_after=5), VirtualClock()
    s, _ = make_session(clock, [], hold_open=True, handoff=handoff, store=store, call_id=first.call_id)
    fourth = await run_call(clock, s)
    assert fourth.outcome == "handed_off" and fourth.call_id == first.call_id + "-a4"
    assert handoff.enqueued[0][0].call_id == fourth.call_id


_DEAD_WORKER = textwrap.dedent("""
    import asyncio, json, sys, time
    from ivr.handoff import ContextBundle, HandoffService
    from ivr.handoff.store.sqlite_store import SqliteStore
    from ivr.session import CallRecord, CallRecordStore
    from ivr.session.records import RecordWriter

    records, queue = CallRecordStore(sys.argv[1]), SqliteStore(sys.argv[2])
    svc = HandoffService(queue)
    w1 = RecordWriter(records, CallRecord("dead-on-hold", "audiosocket", "0912345678", "zh-TW", time.time()))
    w1.event("prompt", 1.0, key="greeting", text="您好")
    ticket = asyncio.run(svc.enqueue(ContextBundle(call_id="dead-on-hold", intent="check_balance"), "T1"))
    w1.event("transfer", 2.5, queue="T1", reason="caller_request", ticket=ticket.id)
    w2 = RecordWriter(records, CallRecord("dead-mid-menu", "websocket", "", "zh-TW", time.time()))
    w2.event("turn", 4.0, slot="menu", text="查餘額")
    print(json.dumps({"ticket": ticket.id}), flush=True)
    time.sleep(600)
""")


def test_killed_worker_records_are_closed_and_tickets_withdrawn(tmp_path):
    calls, queue = tmp_path / "calls.sqlite3", tmp_path / "queue.sqlite3"
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, "-c", _DEAD_WORKER, str(calls), str(queue)], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert line, "the worker did not start"
        ticket = json.loads(line)["ticket"]
        # while it runs, its calls are live: nobody closes them
        store = CallRecordStore(calls)
        assert store.close_interrupted() == []
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # kill -9: no finally, no atexit, no record closed
        proc.wait(timeout=30)
    asyncio.run(_start_up_after_the_kill(calls, queue, ticket))


async def _start_up_after_the_kill(calls, queue, ticket):
    svc = HandoffService(SqliteStore(queue))
    assert (await svc.status(ticket)).status == "waiting"

    # a live call of this process and one of another live process stay open
    live = CallRecordStore(calls)
    from ivr.session import CallRecord
    live.begin(CallRecord("ours-live", "qa", "", "zh-TW", time.time()))
    with sqlite3.connect(calls) as db:
        db.execute("INSERT INTO calls (call_id, started_wall, owner) VALUES ('other-live', 0, ?)",
                   (token(os.getppid()),))
        db.execute("INSERT INTO calls (call_id, started_wall) VALUES ('before-owners', 0)")  # an old database's row

    done = await recover_interrupted(CallRecordStore(calls), svc)
    assert sorted(done.calls) == ["before-owners", "dead-mid-menu", "dead-on-hold"]
    assert done.withdrawn == [ticket]
    assert (await svc.status(ticket)).status == "cancelled"
    again = CallRecordStore(calls)
    assert again.get("dead-on-hold").outcome == "interrupted" and again.get("dead-on-hold").duration == 2.5
    assert again.get("dead-on-hold").events[-1]["ticket"] == ticket  # nothing already written is lost
    assert again.get("dead-mid-menu").outcome == "interrupted"
    assert again.get("ours-live").outcome is None and again.get("other-live").outcome is None
    assert again.counts()["interrupted"] == 3
    # a second start-up finds nothing more to do
    assert (await recover_interrupted(CallRecordStore(calls), svc)).calls == []


async def test_recovery_survives_an_unreachable_queue(tmp_path):
    calls = tmp_path / "calls.sqlite3"
    with sqlite3.connect(calls) as db:
        CallRecordStore(calls).close()
        db.execute("INSERT INTO calls (call_id, started_wall, owner) VALUES ('gone', 0, 'h|b|1|1')")
        db.execute("INSERT INTO events (call_id, seq, t, kind, data) VALUES ('gone', 0, 3.0, 'transfer', ?)",
                   (json.dumps({"ticket": "t-unknown", "queue": "T1"}),))

    class Down:
        async def cancel(self, ticket, reason):
            raise ConnectionError("queue down")

    # 'h' is not this host: that row is not ours to judge
    assert (await recover_interrupted(CallRecordStore(calls), Down())).calls == []
    import socket
    with sqlite3.connect(calls) as db:
        db.execute("UPDATE calls SET owner=? WHERE call_id='gone'", (f"{socket.gethostname()}|stale-boot|1|1",))
    done = await recover_interrupted(CallRecordStore(calls), Down())
    assert done.calls == ["gone"] and done.withdrawn == []
    assert CallRecordStore(calls).get("gone").outcome == "interrupted"


async def test_services_recover_at_start_up(tmp_path):
    """What ``ivr serve`` runs before it takes calls."""
    from ivr.session.factory import CallServices

    calls, queue = tmp_path / "calls.sqlite3", tmp_path / "queue.sqlite3"
    svc = HandoffService(SqliteStore(queue))
    from ivr.handoff import ContextBundle

    ticket = await svc.enqueue(ContextBundle(call_id="crashed"), "T1")
    CallRecordStore(calls).close()
    import socket
    with sqlite3.connect(calls) as db:
        db.execute("INSERT INTO calls (call_id, started_wall, owner) VALUES ('crashed', 0, ?)",
                   (f"{socket.gethostname()}|old-boot|123|1",))
        db.execute("INSERT INTO events (call_id, seq, t, kind, data) VALUES ('crashed', 0, 9.5, 'transfer', ?)",
                   (json.dumps({"ticket": ticket.id, "queue": "T1"}),))
    services = CallServices(engines=None, dialog=None, prompts=None, handoff=svc, records=CallRecordStore(calls))
    done = await services.recover()
    assert done.calls == ["crashed"] and done.withdrawn == [ticket.id]
    assert (await svc.status(ticket.id)).status == "cancelled"
    assert services.records.get("crashed").outcome == "interrupted"
