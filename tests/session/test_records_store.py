"""One test suite, two call-record stores: SQLite (embedded) and PostgreSQL
(a real server, tests/pg_server.py). Same interface, same rows, same
redaction; events visible to other readers as soon as they are written; a
worker killed with kill -9 mid-call leaves every event up to its last, and
the next start-up closes the call as interrupted on either store."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ivr.session.records import CallRecord, CallRecords, RecordStoreError, RecordWriter, open_records

ROOT = str(Path(__file__).resolve().parents[2])
Opener = Callable[..., CallRecords]


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'calls.sqlite3'}"
    return request.getfixturevalue("pg_server").new_database("rec")


@pytest.fixture
def opener(records_url: str) -> Iterator[Opener]:
    """Opens stores on the same database (a second worker, a restart); closes them all after."""
    opened: list[CallRecords] = []

    def open_(**kw) -> CallRecords:
        store = open_records(records_url, **kw)
        opened.append(store)
        return store

    yield open_
    for s in opened:
        s.close()


def _call(call_id: str, caller: str = "0912345678", started: float | None = None) -> CallRecord:
    return CallRecord(call_id, "audiosocket", caller, "zh-TW", time.time() if started is None else started)


def test_a_call_round_trips_in_order(opener: Opener) -> None:
    store = opener(worker="w1")
    rec = _call("c1", caller="")
    assert store.begin(rec) == "c1"
    store.add_event("c1", {"kind": "prompt", "t": 0.2, "key": "greeting", "text": "您好", "heard": 1.5})
    store.add_event("c1", {"kind": "turn", "t": 3.25, "slot": "menu", "text": "查餘額", "dtmf": None, "n": 2})
    store.add_event("c1", {"kind": "action", "t": 4.0, "name": "balance", "ok": True, "nested": {"a": [1, 2.5]}})
    rec.ended_wall, rec.duration, rec.outcome, rec.end_reason = rec.started_wall + 5, 5.0, "self_served", "completed"
    store.finish(rec)
    got = store.get("c1")
    assert got is not None
    assert (got.transport, got.language, got.outcome, got.end_reason, got.duration) == (
        "audiosocket", "zh-TW", "self_served", "completed", 5.0)
    assert got.started_wall == rec.started_wall and got.ended_wall == rec.ended_wall
    assert got.events == [
        {"kind": "prompt", "t": 0.2, "key": "greeting", "text": "您好", "heard": 1.5},
        {"kind": "turn", "t": 3.25, "slot": "menu", "text": "查餘額", "dtmf": None, "n": 2},
        {"kind": "action", "t": 4.0, "name": "balance", "ok": True, "nested": {"a": [1, 2.5]}}]
    assert [e["kind"] for e in got.events] == ["prompt", "turn", "action"]
    assert store.get("nope") is None
    assert store.counts() == {"self_served": 1}
    assert [r.call_id for r in store] == ["c1"]


def test_personal_numbers_are_redacted_and_nuls_dropped(opener: Opener) -> None:
    store = opener()
    rec = _call("c2", caller="0912345678")
    store.begin(rec)
    store.add_event("c2", {"kind": "turn", "t": 1.0, "text": "我的身分證A123456789 卡號4111111111111111",
                           "bad": "a\x00b"})
    got = store.get("c2")
    dump = json.dumps(got.to_dict(), ensure_ascii=False)
    for secret in ("0912345678", "A123456789", "4111111111111111"):
        assert secret not in dump
    assert got.caller.endswith("78") and got.events[0]["bad"] == "ab"
    raw = opener(redact=False)
    raw.begin(_call("c3", caller="0912345678"))
    assert raw.get("c3").caller == "0912345678"  # an access-controlled store may keep it


def test_a_repeated_call_id_gets_a_new_record_and_the_old_one_is_untouched(opener: Opener) -> None:
    first, second = opener(worker="w1"), opener(worker="w2")
    a = _call("uuid-1")
    first.begin(a)
    first.add_event("uuid-1", {"kind": "turn", "t": 1.0, "text": "一"})
    b, c = _call("uuid-1"), _call("uuid-1")
    assert second.begin(b) == "uuid-1-a2" and b.call_id == "uuid-1-a2"
    assert first.begin(c) == "uuid-1-a3"
    second.add_event("uuid-1-a2", {"kind": "turn", "t": 0.5, "text": "二"})
    assert [e["text"] for e in first.get("uuid-1").events] == ["一"]
    assert [e["text"] for e in first.get("uuid-1-a2").events] == ["二"]
    assert first.call_ids() == ["uuid-1", "uuid-1-a2", "uuid-1-a3"]
    assert [s.worker for s in first.calls_between(0)] == ["w1", "w2", "w1"]


def test_an_unknown_outcome_is_refused(opener: Opener) -> None:
    store = opener()
    rec = _call("c4")
    store.begin(rec)
    rec.outcome = "won"
    with pytest.raises(ValueError, match="not in"):
        store.finish(rec)


def test_events_are_readable_by_another_worker_while_the_call_runs(opener: Opener) -> None:
    writer, reader = opener(worker="w1"), opener(worker="w2")
    pen = RecordWriter(writer, _call("live-1"))
    pen.event("prompt", 0.5, key="greeting")
    pen.event("turn", 2.0, slot="menu", text="轉專人")
    live = reader.get("live-1")
    assert live is not None and live.outcome is None and [e["kind"] for e in live.events] == ["prompt", "turn"]
    assert reader.counts() == {"unfinished": 1}
    pen.finish("handed_off", "transferred", 3.0, "zh-TW")
    assert reader.get("live-1").outcome == "handed_off" and reader.counts() == {"handed_off": 1}


def test_calls_between_and_handoff_events(opener: Opener) -> None:
    store = opener(worker="w9")
    for i, start in enumerate((100.0, 200.0, 300.0)):
        store.begin(_call(f"k{i}", started=start))
    assert [s.call_id for s in store.calls_between(150.0, 300.0)] == ["k1"]
    assert [s.call_id for s in store.calls_between(150.0)] == ["k1", "k2"]
    evs = [{"eid": "e1", "type": "offered", "at": 10.0, "queue": "T1", "agent": "a1", "wait": 1.5},
           {"eid": "e2", "type": "accepted", "at": 11.0, "queue": "T1", "agent": "a1", "wait": 2.5, "reply": 1.0},
           {"eid": "e3", "type": "wrapped", "at": 50.0, "queue": "T1", "agent": "a1", "disposition": "resolved",
            "handle": 39.0, "note": "客戶電話0912345678"}]
    store.add_handoff_events(evs)
    store.add_handoff_events(evs[1:])  # a retried batch: stored once
    got = store.handoff_events()
    assert [e["type"] for e in got] == ["offered", "accepted", "wrapped"]
    assert got[1] == {k: v for k, v in evs[1].items() if k != "eid"}
    assert "0912345678" not in got[2]["note"]
    assert [e["type"] for e in store.handoff_events(since=11.0)] == ["accepted", "wrapped"]


_DYING_WORKER = textwrap.dedent("""
    import json, sys, time
    from ivr.session.records import CallRecord, RecordWriter, open_records

    store = open_records(sys.argv[1], worker="w-dead")
    on_hold = RecordWriter(store, CallRecord("dead-on-hold", "audiosocket", "0912345678", "zh-TW", time.time()))
    on_hold.event("prompt", 1.0, key="greeting", text="您好")
    on_hold.event("transfer", 2.5, queue="T1", reason="caller_request", ticket="tk-123")
    mid = RecordWriter(store, CallRecord("dead-mid-menu", "websocket", "", "zh-TW", time.time()))
    mid.event("turn", 4.0, slot="menu", text="查餘額")
    done = RecordWriter(store, CallRecord("dead-done", "websocket", "", "zh-TW", time.time()))
    done.event("turn", 1.0, slot="menu", text="好")
    done.finish("self_served", "completed", 2.0, "zh-TW")
    print(json.dumps({"ready": True}), flush=True)
    time.sleep(600)
""")


def test_a_worker_killed_mid_call_leaves_every_event_and_is_closed_at_start_up(opener: Opener,
                                                                              records_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, "-c", _DYING_WORKER, records_url], stdout=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)
    try:
        assert json.loads(proc.stdout.readline() or "{}").get("ready"), "the worker did not start"
        assert opener().close_interrupted() == []  # it still runs: its calls are live
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # kill -9: no finally, no atexit
        proc.wait(timeout=30)
    ours = opener(worker="w-new")
    ours.begin(_call("ours-live"))
    closed = dict(opener(worker="w-new").close_interrupted())
    assert closed == {"dead-on-hold": ["tk-123"], "dead-mid-menu": []}
    after = opener()
    hold = after.get("dead-on-hold")
    assert (hold.outcome, hold.end_reason, hold.duration) == ("interrupted", "worker_died", 2.5)
    assert hold.ended_wall == pytest.approx(hold.started_wall + 2.5)
    assert [e["kind"] for e in hold.events] == ["prompt", "transfer"]  # nothing already written is lost
    assert after.get("dead-mid-menu").duration == 4.0 and after.get("dead-done").outcome == "self_served"
    assert after.get("ours-live").outcome is None
    assert after.counts() == {"interrupted": 2, "self_served": 1, "unfinished": 1}
    assert after.close_interrupted() == []  # a second start-up finds nothing


def test_a_bad_url_is_a_one_line_error_with_the_password_masked(tmp_path: Path) -> None:
    for url, message in (("mysql://u:pw@h/db", "unknown records URL"), ("sqlite:///", "needs a path")):
        with pytest.raises(RecordStoreError, match=message) as e:
            open_records(url)
        assert "\n" not in str(e.value) and "pw@" not in str(e.value)


# -- PostgreSQL only: migrations, an unreachable server, an outage mid-call ---

def test_migrations_are_versioned_and_applied_once(pg_server) -> None:
    import psycopg

    from ivr.session.records_pg import PgRecordStore, migrations

    url = pg_server.new_database("mig")
    stores: list[PgRecordStore] = []
    threads = [threading.Thread(target=lambda: stores.append(PgRecordStore(url))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert sorted(len(s.applied) for s in stores) == [0, 0, len(migrations())]  # one worker migrated
        with psycopg.connect(url) as c:
            rows = c.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
            assert rows == [(v, n) for v, n, _ in migrations()]
            c.execute("INSERT INTO schema_version (version, name) VALUES (9999, '9999_future')")
        with pytest.raises(RecordStoreError, match="at schema 9999") as e:
            PgRecordStore(url)
        assert "\n" not in str(e.value)
    finally:
        for s in stores:
            s.close()


def test_an_unreachable_server_is_a_one_line_error(pg_server) -> None:
    from tests.redis_server import free_port

    url = f"postgresql://ivr:hunter2@127.0.0.1:{free_port()}/calls"
    t0 = time.monotonic()
    with pytest.raises(RecordStoreError, match="cannot open call records") as e:
        open_records(url)
    assert "hunter2" not in str(e.value) and "\n" not in str(e.value)
    assert time.monotonic() - t0 < 60  # bounded (a hang would be the bug), not a speed claim


def test_postgres_stopped_mid_call_buffers_then_catches_up(tmp_path: Path) -> None:
    from ivr.session.metrics import SessionMetrics
    from ivr.session.records_pg import PgRecordStore
    from tests.pg_server import remove, start_postgres

    server = start_postgres()  # its own server: this test stops it
    metrics = SessionMetrics()
    up = lambda: metrics.registry.get_sample_value("ivr_store_up", {"store": "records"})  # noqa: E731
    try:
        url = server.new_database("out")
        store = PgRecordStore(url, worker="w1", retry_after=0.2)
        pen = RecordWriter(store, _call("through-outage"), health=metrics.stores)
        pen.event("turn", 1.0, text="一")
        server.stop("fast")
        pen.event("turn", 2.0, text="二")  # fails at once; kept in memory
        assert not store.up
        assert up() == 0 and metrics.registry.get_sample_value("ivr_store_errors_total", {"store": "records"}) >= 1
        assert metrics.stores.snapshot()["records"]["ok"] is False  # what /healthz shows
        pen.event("turn", 3.0, text="三")
        server.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pen.event("note", 4.0, text="ping")  # each write retries the backlog (once the probe saw the server)
            if store.up and not pen.pending:
                break
            time.sleep(0.2)
        rec = pen.finish("self_served", "completed", 5.0, "zh-TW")
        assert pen.spooled is None and up() == 1
        got = store.get("through-outage")
        assert got.outcome == "self_served" and [e["text"] for e in got.events][:3] == ["一", "二", "三"]
        assert got.events == rec.events
        store.close()
    finally:
        remove(server)


async def test_a_secret_turn_is_never_stored(opener: Opener) -> None:
    """A whole call with a PIN step (tests/session/test_secret_turns.py) through either store."""
    from ivr.clock import VirtualClock
    from tests.session.session_fakes import FakeHandoff, to_frames
    from tests.session.test_secret_turns import PinDialog
    from tests.session.test_session import caller_audio, make_session, run_call

    store = opener()
    clock = VirtualClock()
    audio = caller_audio([("silence", 1.0), ("speech", 1.0), ("silence", 2.5), ("speech", 1.0),
                          ("silence", 2.5), ("speech", 1.0), ("silence", 3.0)])
    s, _ = make_session(clock, to_frames(audio), script=[("查餘額", 0.9), ("四三二一", 0.9), ("五六七八", 0.9)],
                        hold_open=True, store=store, dialog=PinDialog(), handoff=FakeHandoff(take_after=1))
    record = await run_call(clock, s)
    stored = opener().get(record.call_id)
    dump = json.dumps(stored.to_dict(), ensure_ascii=False)
    assert "四三二一" not in dump and "五六七八" in dump and "****" in dump
    assert stored.outcome == record.outcome == "handed_off" and stored.events == record.events
