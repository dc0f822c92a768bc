"""PDPA erasure reaches the call records: ``erase_calls`` on the SQLite and
PostgreSQL stores (a real server, tests/pg_server.py) blanks the customer's
calls (events, recordings, caller) and keeps the counts, ``erase_handoff_notes``
the wrap-up notes copied there for reports; ``ivr history erase --records
--handoff`` does it with the history and the closed handoff tickets in one command."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest

from ivr.cli import main
from ivr.history import CallerHistory
from ivr.session.records import CallRecord, open_records


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'calls.sqlite3'}"
    return request.getfixturevalue("pg_server").new_database("erase")


def add_call(store, call_id: str, caller: str, audio: str | None = None) -> None:
    rec = CallRecord(call_id, "sip", caller, "zh-TW", time.time() - 60)
    store.begin(rec)
    store.add_event(call_id, {"kind": "turn", "t": 1.0, "slot": "promise_said", "text": "下禮拜五", "dtmf": None})
    store.add_event(call_id, {"kind": "transfer", "t": 2.0, "queue": "T1", "ticket": "t1"})
    rec.ended_wall, rec.duration, rec.outcome, rec.end_reason = time.time(), 30.0, "handed_off", "transferred"
    rec.caller_audio = audio
    store.finish(rec)


def test_erase_calls_blanks_the_customers_calls_only(records_url, tmp_path):
    audio = tmp_path / "c1.caller.wav"
    audio.write_bytes(b"RIFF")
    store = open_records(records_url)
    try:
        add_call(store, "c1", "0912345678", str(audio))
        add_call(store, "c2", "0922333444")
        assert store.erase_calls(["c1", "unknown"]) == 1
        gone, kept = store.get("c1"), store.get("c2")
        assert gone is not None and kept is not None
        assert (gone.caller, gone.events, gone.caller_audio, gone.outcome, gone.duration) == (
            "", [], None, "handed_off", 30.0)  # the counts stay, the person goes
        assert not audio.exists()
        assert kept.caller == "********44" and [e["kind"] for e in kept.events] == ["turn", "transfer"]
        assert store.counts() == {"handed_off": 2}
        assert store.erase_calls([]) == 0
        store.add_handoff_events([
            {"eid": "e1", "type": "wrapped", "at": 10.0, "ticket": "t1", "queue": "T1", "agent": "a1",
             "disposition": "follow_up", "note": "王小明要求退費"},
            {"eid": "e2", "type": "wrapped", "at": 11.0, "ticket": "t2", "queue": "T1", "agent": "a1",
             "disposition": "resolved", "note": "其他客戶"},
            {"eid": "e3", "type": "accepted", "at": 9.0, "ticket": "t1", "queue": "T1", "agent": "a1"}])
        assert store.erase_handoff_notes(["t1", "t9"]) == 1 and store.erase_handoff_notes([]) == 0
        notes = {(e["ticket"], e["type"]): e.get("note") for e in store.handoff_events()}
        assert notes == {("t1", "accepted"): None, ("t1", "wrapped"): "", ("t2", "wrapped"): "其他客戶"}
    finally:
        store.close()


def test_history_erase_reaches_the_call_records(tmp_path, capsys):
    db, calls = tmp_path / "history.sqlite3", tmp_path / "calls.sqlite3"
    store = open_records(calls)
    h = CallerHistory.open(db)
    for cid, customer, caller in [("c1", 1, "0912345678"), ("c2", 1, "0912345678"), ("c3", 2, "0922333444")]:
        add_call(store, cid, caller)
        h.record_call(SimpleNamespace(call_id=cid, transport="sip", caller=caller, started_wall=time.time() - 3600,
                                      duration=30.0, outcome="handed_off", events=[]),
                      {"slots": {"customer_id": customer}, "intent": "promise_to_pay", "turns": []})
    h.close()
    store.close()
    assert main(["history", "erase", "1", "--db", str(db), "--records", str(calls)]) == 0
    assert "erased 2 contact(s) of customer 1; anonymised 2 call record(s)" in capsys.readouterr().out
    store = open_records(calls)
    try:
        assert [(r.call_id, r.caller, len(r.events)) for r in store] == [("c1", "", 0), ("c2", "", 0),
                                                                          ("c3", "********44", 2)]
    finally:
        store.close()
    assert main(["history", "export", "1", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["contacts"] == []


async def test_history_erase_reaches_the_closed_handoff_tickets(tmp_path, capsys):
    """One command: the customer's closed tickets (bundle, callback number,
    wrap-up note) go with their history and call records; export shows them
    first; a ticket still open stops the erasure before anything is erased."""
    from ivr.handoff import HandoffService, open_store
    from tests.handoff.helpers import add_agent, bundle

    db, calls, queue = tmp_path / "history.sqlite3", tmp_path / "calls.sqlite3", f"sqlite:///{tmp_path / 'q.db'}"
    from ivr.handoff.store.reporting import ReportingStore

    store = open_store(queue)
    reporting = open_records(calls)  # the queue's events copied to the records database, as in a cluster
    service = HandoffService(ReportingStore(store, reporting))
    h = CallerHistory.open(db)
    records = open_records(calls)
    tickets = {}
    for cid, customer, caller in [("c1", 1, "0912345678"), ("c2", 2, "0922333444"), ("c3", 1, "0912345678")]:
        add_call(records, cid, caller)
        t = await service.enqueue(bundle(cid, caller_number=caller, customer_name="王小明"), "T1")
        tickets[cid] = t.id
        h.record_call(SimpleNamespace(call_id=cid, transport="sip", caller=caller, started_wall=time.time() - 3600,
                                      duration=30.0, outcome="handed_off",
                                      events=[{"kind": "transfer", "queue": "T1", "ticket": t.id}]),
                      {"slots": {"customer_id": customer}, "intent": "complaint", "turns": []})
    await add_agent(service, "amy")
    for cid in ("c1", "c2"):
        await service.accept("amy", tickets[cid])
        await service.wrap_up("amy", tickets[cid], "follow_up", f"王小明 {cid} 0912345678 要求退費")
    h.close()
    records.close()
    args = ["--db", str(db), "--records", str(calls), "--handoff", queue]

    assert main(["history", "export", "1", "--db", str(db), "--handoff", queue]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["call_id"] for t in doc["handoff_tickets"]] == ["c1", "c3"]
    assert doc["handoff_tickets"][0]["context"]["customer_name"] == "王小明"
    assert "0912345678" not in json.dumps(doc, ensure_ascii=False)

    # a dry run counts what would go (and the open ticket that refuses it), and changes nothing
    assert main(["history", "erase", "1", *args, "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == (
        "would erase 2 contact(s) of customer 1; anonymise 2 call record(s); erase 1 closed handoff ticket(s); "
        f"refused now: 1 handoff ticket(s) still open ({tickets['c3']})")

    # c3 is still waiting for an agent: nothing is erased, anywhere
    assert main(["history", "erase", "1", *args]) == 2
    err = capsys.readouterr().err
    assert f"still open ({tickets['c3']})" in err and err.strip().count("\n") == 0
    assert store.get_bundle(tickets["c1"])["customer_name"] == "王小明"
    assert main(["history", "export", "1", "--db", str(db), "--handoff", "none"]) == 0
    assert len(json.loads(capsys.readouterr().out)["contacts"]) == 2

    await service.cancel(tickets["c3"], "caller_hangup")
    assert main(["history", "erase", "1", *args, "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == ("would erase 2 contact(s) of customer 1; anonymise 2 call record(s); "
                                               "erase 2 closed handoff ticket(s)")
    check = open_records(calls)
    try:
        assert [len(check.get(c).events) for c in ("c1", "c3")] == [2, 2]  # the dry run left the records whole
    finally:
        check.close()
    assert main(["history", "erase", "1", *args]) == 0
    assert capsys.readouterr().out.strip() == ("erased 2 contact(s) of customer 1; anonymised 2 call record(s); "
                                               "erased 2 closed handoff ticket(s)")
    for cid in ("c1", "c3"):
        left = json.dumps([store.get_bundle(tickets[cid]), store.get_ticket(tickets[cid]).to_dict(),
                           [e for e in store.events() if e.get("ticket") == tickets[cid]]], ensure_ascii=False)
        assert "王小明" not in left and "0912345678" not in left and "退費" not in left
    assert store.get_ticket(tickets["c1"]).status == "done"  # the counts stay
    assert store.get_bundle(tickets["c2"])["customer_name"] == "王小明"  # customer 2's ticket stays
    assert [e["note"] for e in store.events() if e.get("ticket") == tickets["c2"] and e.get("note")] == [
        "王小明 c2 0912345678 要求退費"]
    copied = {e["ticket"]: e["note"] for e in reporting.handoff_events() if e["type"] == "wrapped"}
    assert copied[tickets["c1"]] == "" and "要求退費" in copied[tickets["c2"]]  # the reports' copy too
    reporting.close()
    store.close()
