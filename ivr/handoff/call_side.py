"""``CallHandoff``: the part of the agent queue a call uses while it is on the
line: put the caller in a queue with their context, poll the ticket for the
hold announcements, leave the queue on hangup, report the call's outcome.
``HandoffService`` is the implementation (over an SQLite or Redis ``Store``);
the session's tests use a fake with the same members."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ivr.handoff.bundle import ContextBundle
    from ivr.handoff.models import Ticket
    from ivr.handoff.wait import WaitInfo


@runtime_checkable
class CallHandoff(Protocol):
    async def enqueue(self, bundle: ContextBundle, queue: str, priority: int = 0) -> Ticket: ...

    async def status(self, ticket: Ticket) -> Ticket: ...

    async def wait_info(self, ticket: Ticket) -> WaitInfo: ...

    async def cancel(self, ticket: Ticket, reason: str = "caller_hangup") -> bool: ...

    async def record_call_outcome(self, outcome: str, call_id: str | None = None) -> None: ...
