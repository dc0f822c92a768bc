"""A queue store whose events also go to the shared reporting database.

The queue's *state* (tickets, agents, sessions) stays in its store (Redis for
a cluster), where compare-and-set keeps it consistent. Its *events*
(enqueued, offered, accepted, wrapped, call outcomes…) are copied, after the
store took them, to the call-records database (PostgreSQL) that every worker
and desktop shares; the supervisor numbers (``HandoffService.stats``) read
them back from there, so they cover the whole cluster and outlive Redis's
memory.

The copy is for reporting, never on the call's path: a reporting database
that is down keeps events in memory, in order (up to ``max_backlog``; the
oldest are dropped beyond, counted and logged), flushed with the next event
once it answers; meanwhile reads fall back to the queue store's own events.
Each event carries an ``eid`` so a batch retried after a timeout is stored
once."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ivr.dsn import mask_secrets
from ivr.handoff.models import AgentProfile, AgentState, Ticket
from ivr.handoff.store.base import Expect, Store
from ivr.log import get_logger

log = get_logger(__name__)


class EventLog(Protocol):
    """Where queue events are kept for reports (the call-records stores implement it)."""

    url: str

    def add_handoff_events(self, events: Sequence[Mapping[str, Any]]) -> None: ...
    def handoff_events(self, since: float = 0.0) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


class ReportingStore:
    """A ``Store`` that forwards everything to ``inner`` and copies its events to ``log``."""

    def __init__(self, inner: Store, log_: EventLog, *, max_backlog: int = 100_000, close_log: bool = False) -> None:
        self.inner = inner
        self.log = log_
        self.close_log = close_log  # close() closes the log too (when nothing else owns it)
        self.url = inner.url
        self.max_backlog = max_backlog
        self.dropped = 0       # events lost to a backlog overflow (logged)
        self.failures = 0      # failed copies since the log was last reachable
        self._backlog: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    # -- the copy ---------------------------------------------------------
    def _copy(self, event: Mapping[str, Any] | None) -> None:
        with self._lock:
            if event is not None:
                self._backlog.append({**event, "eid": uuid.uuid4().hex})
                if len(self._backlog) > self.max_backlog:
                    over = len(self._backlog) - self.max_backlog
                    del self._backlog[:over]
                    self.dropped += over
                    log.error("reporting backlog full: dropped %d oldest queue event(s) (%d in all)", over,
                              self.dropped, extra={"store": self.log.url})
            batch = list(self._backlog)
            try:
                self.log.add_handoff_events(batch)
            except Exception as e:  # reporting must never fail a handoff: keep, retry with the next event
                self.failures += 1
                if self.failures == 1:
                    log.error("reporting database unavailable (%s): queue events kept in memory",
                              mask_secrets(str(e)).splitlines()[0][:200] if str(e) else type(e).__name__,
                              extra={"store": self.log.url})
                return
            del self._backlog[:len(batch)]
            if self.failures:
                log.warning("reporting database back after %d failed write(s); %d queue event(s) caught up",
                            self.failures, len(batch), extra={"store": self.log.url})
                self.failures = 0

    @property
    def backlog(self) -> int:
        with self._lock:
            return len(self._backlog)

    def flush(self) -> bool:
        """Try to write what waits; True when nothing is left waiting."""
        self._copy(None)
        return self.backlog == 0

    def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Every worker's events from the reporting database; the queue store's own
        while that database is behind (down, or events still waiting to be copied)."""
        if self.backlog == 0:
            try:
                return self.log.handoff_events(since)
            except Exception as e:
                log.warning("reporting database unreadable (%s); queue store events used",
                            mask_secrets(str(e)).splitlines()[0][:200] if str(e) else type(e).__name__)
        return self.inner.events(since)

    # -- forwarded, with the event copied after the store took it --------------
    def add_ticket(self, ticket: Ticket, bundle: Mapping[str, Any], event: Mapping[str, Any]) -> Ticket:
        t = self.inner.add_ticket(ticket, bundle, event)
        self._copy(event)
        return t

    def transition(self, ticket_id: str | None, t_expect: Expect, t_changes: Mapping[str, Any],
                   agent_id: str | None, a_expect: Expect, a_changes: Mapping[str, Any],
                   event: Mapping[str, Any] | None = None) -> bool:
        ok = self.inner.transition(ticket_id, t_expect, t_changes, agent_id, a_expect, a_changes, event)
        if ok and event:
            self._copy(event)
        return ok

    def add_event(self, event: Mapping[str, Any]) -> None:
        self.inner.add_event(event)
        self._copy(event)

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self.inner.get_ticket(ticket_id)

    def tickets_of_calls(self, call_ids: Sequence[str]) -> list[Ticket]:
        return self.inner.tickets_of_calls(call_ids)

    def erase_tickets(self, ticket_ids: Sequence[str]) -> int:
        """The queue store's copy; the notes already copied to the reporting
        database are the records store's to erase (``erase_handoff_notes``)."""
        return self.inner.erase_tickets(ticket_ids)

    def get_bundle(self, ticket_id: str) -> dict[str, Any] | None:
        return self.inner.get_bundle(ticket_id)

    def waiting(self, queue: str) -> list[Ticket]:
        return self.inner.waiting(queue)

    def live_tickets(self) -> list[Ticket]:
        return self.inner.live_tickets()

    def position(self, ticket_id: str) -> int | None:
        return self.inner.position(ticket_id)

    def put_agent(self, profile: AgentProfile, state: AgentState | None = None) -> None:
        self.inner.put_agent(profile, state)

    def get_agent(self, agent_id: str) -> AgentProfile | None:
        return self.inner.get_agent(agent_id)

    def agent_state(self, agent_id: str) -> AgentState | None:
        return self.inner.agent_state(agent_id)

    def agents(self) -> list[tuple[AgentProfile, AgentState]]:
        return self.inner.agents()

    def remove_agent(self, agent_id: str) -> bool:
        return self.inner.remove_agent(agent_id)

    def put_session(self, token: str, agent_id: str, expires: float) -> None:
        self.inner.put_session(token, agent_id, expires)

    def get_session(self, token: str, now: float) -> str | None:
        return self.inner.get_session(token, now)

    def drop_session(self, token: str) -> None:
        self.inner.drop_session(token)

    def clear(self) -> None:
        self.inner.clear()

    def close(self) -> None:
        if not self.flush():
            log.error("closing with %d queue event(s) not copied to the reporting database", self.backlog,
                      extra={"store": self.log.url})
        self.inner.close()
        if self.close_log:
            self.log.close()
