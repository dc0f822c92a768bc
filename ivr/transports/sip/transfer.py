"""Transfer to a person by blind REFER (RFC 3515).

When the dialog emits ``Transfer``, the session queues the call with its
context bundle (the handoff queue's ticket holds it). ``ReferringHandoff``
wraps the call's ``CallHandoff``: once the ticket exists, the ``Transferor``
sends REFER to the queue's SIP address (``SipOptions.transfer_uri`` with
``{queue}`` filled in), carrying the ticket id — the key the agent desktop
opens the context with — in ``User-to-User`` (RFC 7433, hex encoded) and in
``X-Ivr-Context``. On 202 and a NOTIFY with a 2xx (or no NOTIFY within
``refer_wait_seconds``) the call ends as ``transferred`` and we send BYE;
the ticket stays queued for the agent. A refused REFER (4xx/5xx, or a
NOTIFY with a failure) leaves the caller on hold in the queue, as without
SIP transfer."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from ivr.handoff.call_side import CallHandoff
from ivr.log import get_logger
from ivr.session.transfer import maybe_await

if TYPE_CHECKING:
    from collections.abc import Callable

    from ivr.handoff.bundle import ContextBundle
    from ivr.handoff.models import Ticket
    from ivr.handoff.wait import WaitInfo
    from ivr.transports.sip.ua import SipLeg

log = get_logger(__name__)


class _Call(Protocol):
    call_id: str
    leg: SipLeg | None

    def end_transferred(self) -> None: ...


def context_headers(ticket_id: str, call_id: str, queue: str) -> list[tuple[str, str]]:
    """The headers a PBX or agent desktop pops the screen with."""
    return [("User-to-User", f"{ticket_id.encode('utf-8').hex()};encoding=hex"),
            ("X-Ivr-Context", f"ticket={ticket_id};queue={queue};call-id={call_id}")]


def refer_target(template: str, queue: str) -> str:
    return template.replace("{queue}", queue)


class Transferor:
    def __init__(self, call: _Call, options: object) -> None:
        self.call = call
        self.template = str(getattr(options, "transfer_uri", ""))
        self.wait_s = float(getattr(options, "refer_wait_seconds", 8.0))
        self.accepted = False
        self.outcome = ""          # "" until known: transferred | refused <code>
        self.target = ""
        self._timer: asyncio.TimerHandle | None = None

    def start(self, ticket_id: str, queue: str) -> None:
        leg = self.call.leg
        if leg is None or not self.template:
            return
        self.target = refer_target(self.template, queue)
        log.info("sip %s: REFER to %s (ticket %s)", self.call.call_id, self.target, ticket_id)
        leg.refer(self.target, context_headers(ticket_id, self.call.call_id, queue))

    def result(self, code: int, final: bool) -> None:
        if self.outcome:
            return
        if 200 <= code < 300 and not final:  # 202 Accepted: the transferee is trying
            self.accepted = True
            self._timer = asyncio.get_running_loop().call_later(self.wait_s, self._done, "no NOTIFY")
            return
        if not final:
            return
        if self._timer is not None:
            self._timer.cancel()
        if 200 <= code < 300:
            self._done(f"NOTIFY {code}")
        else:
            self.outcome = f"refused {code}"
            log.warning("sip %s: transfer to %s failed (%d); the caller stays queued on hold",
                        self.call.call_id, self.target, code)

    def completed_by_bye(self) -> None:
        """The transferee accepted the REFER (202) and then sent BYE before any
        final NOTIFY: it has left for the transfer target (RFC 5589 lets either
        side end the old dialog), so the ticket stays queued for the agent."""
        if self._timer is not None:
            self._timer.cancel()
        self._done("BYE after 202")

    def _done(self, how: str) -> None:
        if self.outcome:
            return
        self.outcome = "transferred"
        log.info("sip %s: transferred to %s (%s)", self.call.call_id, self.target, how)
        self.call.end_transferred()


class ReferringHandoff:
    """A ``CallHandoff`` that, after queueing, asks for the REFER."""

    def __init__(self, inner: CallHandoff, on_queued: Callable[[str, str], None]) -> None:
        self.inner = inner
        self.on_queued = on_queued

    async def enqueue(self, bundle: ContextBundle, queue: str, priority: int = 0) -> Ticket:
        ticket: Ticket = await maybe_await(self.inner.enqueue(bundle, queue, priority))
        self.on_queued(str(getattr(ticket, "id", ticket)), queue)
        return ticket

    async def status(self, ticket: Ticket) -> Ticket:
        return await maybe_await(self.inner.status(ticket))

    async def wait_info(self, ticket: Ticket) -> WaitInfo:
        return await maybe_await(self.inner.wait_info(ticket))

    async def cancel(self, ticket: Ticket, reason: str = "caller_hangup") -> bool:
        return await maybe_await(self.inner.cancel(ticket, reason))

    async def record_call_outcome(self, outcome: str, call_id: str | None = None) -> None:
        await maybe_await(self.inner.record_call_outcome(outcome, call_id))
