"""The one interface every queue store implements.

Every state change of a ticket or agent goes through ``transition``: an atomic
compare-and-set over one ticket and/or one agent (plus the event it
produces), so two workers can never both offer, accept or abandon the same
call. Stores differ only in how they make that atomic (an SQLite write
transaction, a Redis Lua script)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ivr.handoff.models import AgentProfile, AgentState, Ticket

# expectation: field -> allowed values
Expect = Mapping[str, Sequence[Any]]


class Store(Protocol):
    url: str

    # tickets
    def add_ticket(self, ticket: Ticket, bundle: Mapping[str, Any], event: Mapping[str, Any]) -> Ticket: ...
    def get_ticket(self, ticket_id: str) -> Ticket | None: ...
    def get_bundle(self, ticket_id: str) -> dict[str, Any] | None: ...
    def waiting(self, queue: str) -> list[Ticket]: ...
    def live_tickets(self) -> list[Ticket]: ...
    def position(self, ticket_id: str) -> int | None: ...

    def transition(self, ticket_id: str | None, t_expect: Expect, t_changes: Mapping[str, Any],
                   agent_id: str | None, a_expect: Expect, a_changes: Mapping[str, Any],
                   event: Mapping[str, Any] | None = None) -> bool: ...

    # agents
    def put_agent(self, profile: AgentProfile, state: AgentState | None = None) -> None: ...
    def get_agent(self, agent_id: str) -> AgentProfile | None: ...
    def agent_state(self, agent_id: str) -> AgentState | None: ...
    def agents(self) -> list[tuple[AgentProfile, AgentState]]: ...
    def remove_agent(self, agent_id: str) -> bool: ...

    # events (stats) and desktop sessions
    def add_event(self, event: Mapping[str, Any]) -> None: ...
    def events(self, since: float = 0.0) -> list[dict[str, Any]]: ...
    def put_session(self, token: str, agent_id: str, expires: float) -> None: ...
    def get_session(self, token: str, now: float) -> str | None: ...
    def drop_session(self, token: str) -> None: ...

    # PDPA: a customer's tickets, found by their calls; closed ones erased (ticket ids; returns how many)
    def tickets_of_calls(self, call_ids: Sequence[str]) -> list[Ticket]: ...
    def erase_tickets(self, ticket_ids: Sequence[str]) -> int: ...

    def clear(self) -> None: ...
    def close(self) -> None: ...


def matches(record: Mapping[str, Any], expect: Expect) -> bool:
    return all(record.get(k) in allowed for k, allowed in expect.items())


def token_key(token: str) -> str:
    """Sessions are stored by hash so a copied database gives no live logins."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_changes(changes: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    bad = set(changes) - set(allowed)
    if bad:
        raise ValueError(f"{what}: cannot change {sorted(bad)}")


# -- PDPA erasure of a customer's closed tickets (ivr.handoff.store.pdpa) -----
ERASED_NOTE = "[erased on the customer's request (PDPA)]"
# what a ticket keeps for the counts (queue, times, status, agent, intent): the rest is personal
ERASED_TICKET = {"callback_number": None, "notes": ""}
_BUNDLE_KEPT = ("call_id", "language", "intent", "started_at", "path")


def erased_bundle(bundle: Mapping[str, Any] | None, call_id: str) -> dict[str, Any]:
    """What is left of a closed ticket's context bundle once erased: still a
    valid bundle (``ContextBundle.from_dict``), nothing that names or reaches the person."""
    kept = {k: v for k, v in (bundle or {}).items() if k in _BUNDLE_KEPT}
    return {**kept, "call_id": kept.get("call_id") or call_id, "note": ERASED_NOTE}


def erased_event(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """An erased ticket's queue event without its free text (a wrap-up note), or
    None when it holds none."""
    if not event.get("note"):
        return None
    return {**event, "note": ""}
