"""PDPA on the queue store, both backends (SQLite, a real Redis): a
customer's tickets are found by their calls, exported with the context the
agent saw (numbers masked), and erased once closed: the bundle, callback
number, transfer notes and wrap-up note go, the counts stay; a live ticket and
other customers' tickets are never touched."""
from __future__ import annotations

import json

from ivr.handoff.store.base import ERASED_NOTE
from ivr.handoff.store.pdpa import customer_tickets, erase_customer_tickets, export_tickets
from tests.handoff.helpers import add_agent, bundle

NUMBER = "0912345678"


async def _served(service, call_id: str, agent: str, note: str, *, callback: str = "", number: str = NUMBER,
                  customer: str = "A123456789", name: str = "王小明"):
    """A call queued, then taken by ``agent`` (the only one free) and wrapped up with ``note``."""
    t = await service.enqueue(bundle(call_id, caller_number=number, customer_id=customer, customer_name=name), "T1")
    if callback:
        await service.request_callback(t, callback)
    await add_agent(service, agent)
    got = await service.status(t)
    assert got.offered_to == agent
    await service.accept(agent, t)
    await service.wrap_up(agent, t, "resolved", note)
    return t


def _dump(store, ticket_id: str) -> str:
    return json.dumps([store.get_ticket(ticket_id).to_dict(), store.get_bundle(ticket_id),
                       [e for e in store.events() if e.get("ticket") == ticket_id]], ensure_ascii=False)


async def test_closed_tickets_are_erased_the_counts_stay(service, store):
    mine = await _served(service, "c1", "amy", "客戶王小明 0912345678 說卡片被盜刷", callback="0922333444")
    await service.set_status("amy", "away")
    other = await _served(service, "c9", "bob", "其他客戶的備註", number="0933555777", customer="B223456789",
                          name="陳大文")
    waiting = await service.enqueue(bundle("c2", caller_number=NUMBER), "T2")  # still live: no T2 agent
    before = await service.stats()
    assert "王小明" in _dump(store, mine.id) and "0922333444" in _dump(store, mine.id)

    found = customer_tickets(store, ["c1", "c2", "unknown"])
    assert [t.id for t in found] == [mine.id, waiting.id]
    assert [t.id for t in customer_tickets(store, [], [other.id, "nope"])] == [other.id]

    result = erase_customer_tickets(store, ["c1", "c2"])
    assert result.erased == 1 and result.still_open == (waiting.id,)
    text = _dump(store, mine.id)
    for personal in ("王小明", "0912345678", "0922333444", "A123456789", "網路銀行", "盜刷"):
        assert personal not in text, personal
    t = store.get_ticket(mine.id)
    assert (t.status, t.queue, t.agent, t.call_id, t.callback_number, t.notes) == ("done", "T1", "amy", "c1", None, "")
    erased = await service.bundle(mine.id)  # still a valid bundle for whatever reads it
    assert erased.call_id == "c1" and erased.note == ERASED_NOTE and erased.transcript == ()
    assert erased.path == ("main.greet", "main.menu", "tech.login_help")  # the flow path names no one
    # the live ticket and the other customer's are untouched
    assert store.get_bundle(waiting.id)["caller_number"] == NUMBER
    assert "其他客戶的備註" in _dump(store, other.id)
    after = await service.stats()
    assert after["queues"] == before["queues"]  # the reports count the same calls
    assert erase_customer_tickets(store, ["c1"]).erased == 1  # again: harmless
    assert store.erase_tickets([]) == 0


async def test_export_masks_numbers_and_ids(service, store):
    mine = await _served(service, "c1", "amy", "已處理", callback="0922333444")
    rows = export_tickets(store, ["c1"])
    assert [r["id"] for r in rows] == [mine.id]
    text = json.dumps(rows, ensure_ascii=False)
    assert NUMBER not in text and "0922333444" not in text and "A123456789" not in text
    ctx = rows[0]["context"]
    assert ctx["intent"] == "technical_support" and ctx["transcript"][1]["text"] == "網路銀行沒辦法登入"
    assert ctx["caller_number"].endswith("78") and rows[0]["status"] == "done"
    assert export_tickets(store, []) == []
