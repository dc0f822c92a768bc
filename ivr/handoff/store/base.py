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
