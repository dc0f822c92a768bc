"""PDPA erasure reaches the call records: ``erase_calls`` on the SQLite and
PostgreSQL stores (a real server, tests/pg_server.py) blanks the customer's
calls (events, recordings, caller) and keeps the counts; ``ivr history
erase --records`` does it with the history in one command."""
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
