"""Store-level behaviour both backends share, and clear errors for bad URLs."""
from __future__ import annotations

import pytest

from ivr.handoff import AgentProfile, StoreError, Ticket, open_store
from ivr.handoff.store.sqlite_store import SqliteStore
from tests.redis_server import free_port


def _ticket(i: int, queue: str = "T1", priority: int = 0) -> Ticket:
    return Ticket(id=f"t{i}", queue=queue, priority=priority, call_id=f"c{i}", enqueued_at=100.0 + i, queued_at=100.0 + i)


def test_transition_is_compare_and_set(store):
    store.put_agent(AgentProfile("a1", "A"), None)
    t = store.add_ticket(_ticket(1), {"call_id": "c1"}, {"type": "enqueued", "at": 1.0})
    assert store.agent_state("a1").status == "away"
    # wrong expectation: nothing changes, no event
    assert not store.transition(t.id, {"status": ["offered"]}, {"status": "done"}, None, {}, {}, {"type": "x", "at": 2.0})
    assert store.get_ticket(t.id).status == "waiting" and [e["type"] for e in store.events()] == ["enqueued"]
    # ticket and agent change together or not at all
    assert not store.transition(t.id, {"status": ["waiting"]}, {"status": "offered"}, "a1", {"status": ["available"]}, {"status": "offered"})
    assert store.get_ticket(t.id).status == "waiting"
    assert store.transition(None, {}, {}, "a1", {"status": ["away"]}, {"status": "available", "since": 5.0})
    assert store.transition(t.id, {"status": ["waiting"]}, {"status": "offered", "offered_to": "a1"},
                            "a1", {"status": ["available"]}, {"status": "offered", "ticket": t.id}, {"type": "offered", "at": 6.0})
    assert store.get_ticket(t.id).offered_to == "a1" and store.agent_state("a1").ticket == t.id
    assert store.waiting("T1") == [] and store.position(t.id) is None
    with pytest.raises(ValueError):
        store.transition(t.id, {}, {"id": "other"}, None, {}, {})


def test_waiting_order_and_live_set(store):
    for i, (q, p) in enumerate([("T1", 0), ("T1", 5), ("T2", 0), ("T1", 0), ("T1", 5)]):
        store.add_ticket(_ticket(i, q, p), {"call_id": f"c{i}"}, {"type": "enqueued", "at": float(i)})
    assert [t.id for t in store.waiting("T1")] == ["t1", "t4", "t0", "t3"]
    assert [store.position(f"t{i}") for i in (1, 4, 0, 3, 2)] == [1, 2, 3, 4, 1]
    store.transition("t4", {"status": ["waiting"]}, {"status": "abandoned"}, None, {}, {})
    store.transition("t2", {"status": ["waiting"]}, {"queue": "T1"}, None, {}, {})  # overflow keeps arrival order
    assert [t.id for t in store.waiting("T1")] == ["t1", "t0", "t2", "t3"]
    assert [t.id for t in store.live_tickets()] == ["t0", "t1", "t2", "t3"]
    assert store.get_bundle("t3") == {"call_id": "c3"}
    assert [e["type"] for e in store.events(since=3.0)] == ["enqueued", "enqueued"]


def test_sessions_expire_and_are_stored_hashed(store):
    store.put_session("tok-secret", "a1", expires=200.0)
    assert store.get_session("tok-secret", now=100.0) == "a1"
    assert store.get_session("tok-secret", now=300.0) is None
    assert store.get_session("other", now=100.0) is None
    store.drop_session("tok-secret")
    assert store.get_session("tok-secret", now=100.0) is None
    if isinstance(store, SqliteStore):
        assert "tok-secret" not in str(store._q("SELECT token FROM sessions"))


def test_bad_urls_are_one_line_errors(tmp_path):
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("postgres://x")
    with pytest.raises(StoreError, match="cannot reach Redis"):
        open_store(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open queue database"):
        open_store(f"sqlite:///{tmp_path / 'dir.db'}")
