"""The shared caller history on a real PostgreSQL (tests/pg_server.py): what
one worker records another sees at once; migrations run once and live beside
the call records' in one database; the number key must be the cluster's; an
unreachable server is one line; a server that goes away mid-run costs the
calls their history, never the call, and history comes back with it."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from ivr.history import CallerHistory, ContextActions, HistoryStoreError, PgHistoryStore
from ivr.history.keys import HistoryKeyError

KEY = "cd" * 32
NUMBER = "0912345678"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("IVR_HISTORY_KEY", KEY)


def finished(call_id: str, caller: str = NUMBER, ago: float = 60.0, outcome: str = "handed_off"):
    return SimpleNamespace(call_id=call_id, transport="sip", caller=caller, started_wall=time.time() - ago,
                           duration=30.0, outcome=outcome, events=[{"kind": "transfer", "queue": "T3", "ticket": "t1"}])


def test_two_workers_share_one_history(pg_server, key):
    url = pg_server.new_database("share")
    a, b = CallerHistory.open(url), CallerHistory.open(url)
    try:
        a.record_call(finished("w1-call"), {"slots": {}, "intent": "complaint", "turns": []})
        seen = b.summary(caller=NUMBER)  # the repeat caller rings the other worker
        assert seen.calls_7d == 1 and seen.repeat_intent == "complaint" and seen.repeat_queue == "T3"
        assert b.wrap_up("w1-call", "a07", "resolved", "已處理")  # an agent on the other worker wraps it up
        assert a.summary(caller=NUMBER).repeat_intent == ""
        b.record_call(finished("w2-call", ago=30), {"slots": {"customer_id": 9}, "intent": "check_balance"})
        assert [c["call_id"] for c in a.export("9")["contacts"]] == ["w1-call", "w2-call"]
        assert a.erase("9") == 2 and b.export("9")["contacts"] == []
        assert a.store.erasures() == b.store.erasures() and len(a.store.erasures()) == 1
    finally:
        a.close()
        b.close()


def test_wrap_ups_from_two_workers_at_once_keep_the_row(pg_server, key):
    """The wrap-up is one UPDATE: concurrent ones never lose the contact or each other's fields."""
    url = pg_server.new_database("wrap")
    hs = [CallerHistory.open(url) for _ in range(4)]
    try:
        hs[0].record_call(finished("c1"), {"slots": {"customer_id": 3}, "intent": "complaint"})
        threads = [threading.Thread(target=h.wrap_up, args=("c1", f"a{i}", "follow_up", f"note {i}"))
                   for i, h in enumerate(hs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        got = hs[1].contacts(customer_id="3")
        assert len(got) == 1 and got[0].intents == ("complaint",) and got[0].queue == "T3"
        assert got[0].agent in {"a0", "a1", "a2", "a3"} and got[0].notes == f"note {got[0].agent[1]}"
    finally:
        for h in hs:
            h.close()


def test_migrations_once_beside_the_call_records(pg_server, key):
    import psycopg

    from ivr.session.records import open_records

    url = pg_server.new_database("mig")
    stores: list[PgHistoryStore] = []
    threads = [threading.Thread(target=lambda: stores.append(PgHistoryStore(url))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    records = open_records(url)  # the same database: each keeps its own schema versions
    try:
        assert sorted(len(s.applied) for s in stores) == [0, 0, 1]
        with psycopg.connect(url) as c:
            assert c.execute("SELECT version, name FROM history_schema_version").fetchall() == [(1, "0001_contacts")]
            assert [r[0] for r in c.execute("SELECT name FROM schema_version ORDER BY version")] == [
                "0001_calls", "0002_handoff_events"]
            c.execute("INSERT INTO history_schema_version (version, name) VALUES (99, '0099_future')")
        with pytest.raises(HistoryStoreError, match="caller history database is at schema 99") as e:
            PgHistoryStore(url)
        assert "\n" not in str(e.value)
    finally:
        records.close()
        for s in stores:
            s.close()


def test_a_shared_history_needs_the_clusters_key(pg_server, monkeypatch):
    monkeypatch.delenv("IVR_HISTORY_KEY", raising=False)
    with pytest.raises(HistoryKeyError, match="IVR_HISTORY_KEY: a shared") as e:
        CallerHistory.open(pg_server.new_database("nokey"))
    assert "\n" not in str(e.value)


def test_an_unreachable_server_is_one_line(key):
    from tests.redis_server import free_port

    url = f"postgresql://ivr:hunter2@127.0.0.1:{free_port()}/history"
    with pytest.raises(HistoryStoreError, match="cannot open caller history") as e:
        CallerHistory.open(url)
    assert "hunter2" not in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(HistoryStoreError, match="unknown history URL"):
        CallerHistory.open("mysql://db/history")


def test_server_down_mid_run_costs_history_not_the_call(key, log_stream):
    """Stopped under a running worker: writes and reads fail at once with one
    line each, the flows' customer_context answers an empty history (the caller
    is served as a first-time caller); once the server is back, so is history."""
    from tests.pg_server import remove, start_postgres

    server = start_postgres()  # its own server: this test stops it
    try:
        history = CallerHistory.open(server.url())
        store = history.store
        assert isinstance(store, PgHistoryStore)
        store.retry_after = 0.2
        actions = ContextActions(lambda: history, None, None)
        history.record_call(finished("before"), {"slots": {}, "intent": "complaint"})
        assert actions.customer_context(caller=NUMBER)["history"]["calls_7d"] == 1
        server.stop("fast")
        t0 = time.monotonic()
        assert history.record_call(finished("during"), {"slots": {}}) is None  # the call's record is not touched
        got = actions.customer_context(caller=NUMBER, call_id="c-during")
        assert got["history"]["calls_7d"] == 0 and got["history"]["repeat_queue"] == ""
        for _ in range(5):  # once down, later calls fail at once (no connect timeout per call)
            history.record_call(finished("during"), {"slots": {}})
        assert time.monotonic() - t0 < 30  # bounded, not a speed claim
        lines = [ln for ln in log_stream.getvalue().splitlines() if "caller history" in ln]
        assert lines and all("\n" not in ln for ln in lines)
        assert any("goes on without it" in ln for ln in lines)
        server.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and history.record_call(finished("after", ago=10), {"slots": {}}) is None:
            time.sleep(0.3)  # the first failure after the restart starts the probe
        assert store.up
        assert [c.call_id for c in history.contacts(caller=NUMBER)] == ["after", "before"]
        history.close()
    finally:
        remove(server)


def test_the_pdpa_commands_on_the_shared_history(pg_server, key, capsys):
    import json

    from ivr.cli import main

    url = pg_server.new_database("cli")
    h = CallerHistory.open(url)
    h.record_call(finished("anon", ago=600), {"slots": {}})  # before they were identified, from their number
    h.record_call(finished("c1"), {"slots": {"customer_id": 4}, "intent": "complaint"})
    h.record_call(finished("c2", caller="0922333444"), {"slots": {"customer_id": 5}})
    h.close()
    assert main(["history", "export", "4", "--db", url, "--handoff", "none"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["call_id"] for c in doc["contacts"]] == ["anon", "c1"] and NUMBER not in json.dumps(doc)
    assert main(["history", "erase", "4", "--db", url, "--records", "none", "--handoff", "none"]) == 0
    assert capsys.readouterr().out.strip() == "erased 2 contact(s) of customer 4"
    assert main(["history", "show", "5", "--db", url]) == 0
    assert json.loads(capsys.readouterr().out)["calls_30d"] == 1
