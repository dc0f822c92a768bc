"""A customer's handoff tickets for a PDPA request: found by the calls caller
history links to them (and the ticket ids it noted), exported for a copy,
erased on a deletion request.

Only *closed* tickets are erased (done, abandoned, cancelled): a live one is a
call in progress or a caller still waiting, and erasing its context would
strand them; the erasure reports them so it can be run again later. An erased
ticket keeps what the counts need (queue, times, status, agent, intent)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ivr.handoff.bundle import ContextBundle
from ivr.handoff.errors import HandoffError
from ivr.handoff.models import FINAL, Ticket
from ivr.handoff.store.base import Store
from ivr.redact import redact


@dataclass(frozen=True)
class TicketErasure:
    erased: int                 # closed tickets erased
    still_open: tuple[str, ...]  # live tickets left alone (ids)


def customer_tickets(store: Store, call_ids: Sequence[str], ticket_ids: Sequence[str] = ()) -> list[Ticket]:
    """The tickets of these calls, plus the named tickets, once each, in arrival order."""
    found = {t.id: t for t in store.tickets_of_calls(call_ids)}
    for tid in ticket_ids:
        if tid and tid not in found:
            t = store.get_ticket(tid)
            if t is not None:
                found[t.id] = t
    return sorted(found.values(), key=lambda t: t.seq)


def export_tickets(store: Store, call_ids: Sequence[str], ticket_ids: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Each ticket with the context the agent saw (Taiwan IDs masked as on the
    desktop, phone numbers masked as everywhere in an export)."""
    out = []
    for t in customer_tickets(store, call_ids, ticket_ids):
        row = t.to_dict()
        row["callback_number"] = redact(row["callback_number"]) if row.get("callback_number") else None
        raw = store.get_bundle(t.id) or {"call_id": t.call_id}
        try:
            context = ContextBundle.from_dict(raw).agent_view()
        except HandoffError:  # an old or foreign bundle: shown as stored, numbers masked
            context = dict(raw)
        if context.get("caller_number"):
            context["caller_number"] = redact(str(context["caller_number"]))
        row["context"] = context
        out.append(row)
    return out


def plan_ticket_erasure(store: Store, call_ids: Sequence[str], ticket_ids: Sequence[str] = ()) -> TicketErasure:
    """What ``erase_customer_tickets`` would do, nothing changed: the closed
    tickets it would erase (``erased``) and the live ones that refuse it."""
    tickets = customer_tickets(store, call_ids, ticket_ids)
    return TicketErasure(erased=sum(1 for t in tickets if t.status in FINAL),
                         still_open=tuple(t.id for t in tickets if t.status not in FINAL))


def erase_customer_tickets(store: Store, call_ids: Sequence[str], ticket_ids: Sequence[str] = ()) -> TicketErasure:
    tickets = customer_tickets(store, call_ids, ticket_ids)
    closed = [t.id for t in tickets if t.status in FINAL]
    n = store.erase_tickets(closed) if closed else 0
    left = tuple(t.id for t in tickets if t.status not in FINAL)
    return TicketErasure(erased=n, still_open=left)
