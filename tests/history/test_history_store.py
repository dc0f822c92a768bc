"""Caller history: what a summary says, the keyed number, wrap-ups, and the
PDPA export / erase / retention; the store tests run against the real SQLite
store and a real PostgreSQL (tests/pg_server.py), the shared store's own
behaviour (two workers, migrations, the key, an outage) is in
test_history_pg.py."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ivr.history import CallerHistory, Contact, NumberKeyer, SqliteHistoryStore, mask_number, summarize
from ivr.history.keys import HistoryKeyError

DAY = 86400.0
NOW = 1_800_000_000.0
NUMBER = "0912345678"


def contact(call_id, days_ago, *, intents=(), outcome="handed_off", queue="", customer="", key="k1", wrap=""):
    return Contact(call_id=call_id, started=NOW - days_ago * DAY, intents=tuple(intents), outcome=outcome,
                   queue=queue, customer_id=customer, number_key=key, wrap_up=wrap)


def test_summary_counts_and_last_intent():
    cs = [contact("a", 1, intents=["check_balance"], outcome="self_served"),
          contact("b", 3, intents=["technical_support"], queue="T2", wrap="resolved"),
          contact("c", 10, intents=["complaint"], queue="T3"),
          contact("d", 40, intents=["check_balance"], outcome="self_served")]
    s = summarize(cs, NOW)
    assert (s.calls_7d, s.calls_30d, s.last_intent) == (2, 3, "check_balance")
    # the complaint 10 days ago was never wrapped up as resolved
    assert s.open_complaint and s.complaints_90d == 1
    # nothing unresolved within 7 days: no repeat routing
    assert s.repeat_intent == "" and s.repeat_queue == ""
    assert [r["intent"] for r in s.recent] == ["check_balance", "technical_support", "complaint", "check_balance"]


def test_unresolved_call_within_7_days_is_a_repeat_with_its_queue():
    s = summarize([contact("a", 2, intents=["lang_zh", "technical_support"], outcome="abandoned")], NOW)
    assert s.repeat_intent == "technical_support" and s.repeat_queue == "T2" and s.repeat_label == "網路銀行問題"
    s = summarize([contact("a", 2, intents=["complaint"], queue="T3")], NOW)
    assert s.repeat_queue == "T3" and s.open_complaint
    resolved = summarize([contact("a", 2, intents=["complaint"], queue="T3", wrap="resolved")], NOW)
    assert resolved.repeat_intent == "" and not resolved.open_complaint
    old = summarize([contact("a", 8, intents=["complaint"], queue="T3")], NOW)
    assert old.repeat_intent == "" and old.open_complaint  # still open, but not a 7-day repeat
    # the call being summarized for is not its own history
    assert summarize([contact("a", 0, intents=["complaint"])], NOW, exclude_call="a").calls_7d == 0


def test_number_key_is_keyed_and_never_the_number(tmp_path):
    k1 = NumberKeyer(b"k" * 32)
    assert k1("0912-345-678") == k1("+886912345678") == k1("886 912 345 678")
    assert k1(NUMBER) != NumberKeyer(b"x" * 32)(NUMBER) and NUMBER not in k1(NUMBER)
    assert k1("") == "" and k1("123") == ""
    assert mask_number("+886912345678") == "*******678"
    db = tmp_path / "h.sqlite3"
    a, b = NumberKeyer.for_store(db), NumberKeyer.for_store(db)
    assert a(NUMBER) == b(NUMBER)  # the key file made on first use is reused
    assert (db.with_suffix(".key").stat().st_mode & 0o777) == 0o600
    with pytest.raises(HistoryKeyError):
        NumberKeyer(b"short")


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request, tmp_path, monkeypatch) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    monkeypatch.setenv("IVR_HISTORY_KEY", "ab" * 32)  # a shared history hashes with the cluster's key
    return request.getfixturevalue("pg_server").new_database("hist")


@pytest.fixture
def history(history_url):
    h = CallerHistory.open(history_url, now=lambda: NOW)
    yield h
    h.close()


def stored_text(history_url: str) -> bytes:
    """Everything the store holds, as bytes: the SQLite file and its WAL (where
    fresh rows are until a checkpoint), or every history row of the database."""
    if not history_url.startswith("postgresql://"):
        from pathlib import Path

        return b"".join(p.read_bytes() for p in (Path(history_url), Path(history_url + "-wal")) if p.exists())
    import psycopg

    with psycopg.connect(history_url) as c:
        rows = c.execute("SELECT call_id, customer_id, number_key, data::text FROM history_contacts").fetchall()
    return json.dumps(rows, ensure_ascii=False).encode()


def finished(call_id, caller, days_ago=0.0, outcome="handed_off", events=()):
    return SimpleNamespace(call_id=call_id, transport="audiosocket", caller=caller, started_wall=NOW - days_ago * DAY,
                           duration=42.0, outcome=outcome, events=list(events))


def test_record_call_from_record_and_state(history, history_url):
    state = {"slots": {"customer_id": 7, "pin": "1234"}, "intent": "complaint",
             "turns": [{"intent": "lang_zh"}, {"intent": "check_balance"}, {"intent": "complaint"}]}
    rec = finished("c1", NUMBER, events=[{"kind": "transfer", "queue": "T3", "ticket": "tk1"}])
    c = history.record_call(rec, state)
    assert c.customer_id == "7" and c.intents == ("check_balance", "complaint") and c.queue == "T3"
    assert c.number_shown == "*******678" and c.ticket == "tk1"
    assert history.wrap_up("c1", "a01", "follow_up", "客戶身分證 A123456789 已核對")
    got = history.contacts(customer_id="7")[0]
    assert got.agent == "a01" and got.wrap_up == "follow_up" and "A123456789" not in got.notes
    raw = stored_text(history_url)
    assert b"tk1" in raw  # (the reader sees the rows)
    assert NUMBER.encode() not in raw and b"1234" not in raw  # no number, no PIN, anywhere in the store
    assert not history.wrap_up("nope", "a01", "resolved")


def test_record_call_never_raises(history):
    history.store.close()  # the database is gone
    assert history.record_call(finished("c1", NUMBER), {"slots": {}}) is None


def test_export_and_erase_a_customer(history):
    other = "0922333444"
    history.record_call(finished("anon", NUMBER, 5, outcome="abandoned"), {"slots": {}})      # before identified
    history.record_call(finished("c1", NUMBER, 3), {"slots": {"customer_id": 1}, "intent": "complaint"})
    history.record_call(finished("c2", other, 2), {"slots": {"customer_id": 1}, "intent": "check_balance"})
    history.record_call(finished("c3", other, 1), {"slots": {"customer_id": 2}, "intent": "check_balance"})
    history.record_call(finished("anon2", "0933555777", 1), {"slots": {}})
    doc = history.export("1")
    assert [c["call_id"] for c in doc["contacts"]] == ["anon", "c1", "c2"]
    text = json.dumps(doc, ensure_ascii=False)
    assert NUMBER not in text and other not in text and "number_key" not in text
    assert history.erase("1") == 3
    assert history.export("1")["contacts"] == []
    left = {c.call_id for c in history.store.find("2", [history.keyer("0933555777")])}
    assert left == {"c3", "anon2"}  # another customer (even on a shared number) and other callers stay
    assert history.store.erasures() == [(NOW, 3)]


def test_prune_past_retention(history):
    history.record_call(finished("old", NUMBER, 800), {"slots": {"customer_id": 1}})
    history.record_call(finished("new", NUMBER, 10), {"slots": {"customer_id": 1}})
    assert history.prune() == 1
    assert [c.call_id for c in history.contacts(customer_id="1", days=None)] == ["new"]


def test_newest_first_and_since(history):
    for cid, days in [("a", 9), ("b", 1), ("c", 4)]:
        history.record_call(finished(cid, NUMBER, days), {"slots": {"customer_id": 5}})
    assert [c.call_id for c in history.contacts(customer_id="5", days=None)] == ["b", "c", "a"]
    assert [c.call_id for c in history.contacts(caller=NUMBER, days=5)] == ["b", "c"]
    assert history.contacts(customer_id="", caller="") == []
    assert history.store.number_keys_of("5") == [history.keyer(NUMBER)] and history.store.number_keys_of("") == []
    history.record_call(finished("b", "0922333444", 1, outcome="abandoned"), {"slots": {}})  # the same call again
    assert history.contacts(customer_id="5", days=None)[0].call_id == "c"  # replaced, not doubled
    assert [c.outcome for c in history.contacts(caller="0922333444")] == ["abandoned"]


def test_store_seam_is_the_typed_base():
    from ivr.history import HistoryStore, PgHistoryStore

    assert issubclass(SqliteHistoryStore, HistoryStore) and issubclass(PgHistoryStore, HistoryStore)
    with pytest.raises(TypeError):
        HistoryStore()  # abstract: a new store must implement every method
