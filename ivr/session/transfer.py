"""Handing a call to a live agent: the context bundle, the queue, the hold.

The session builds the bundle from the dialog state and what was said, puts
it in the handoff queue, and keeps the line open with hold announcements
(queue position, estimated wait) until an agent takes the ticket, the caller
hangs up, or ``max_hold`` passes (then the PBX leg is released with the ticket
still queued, so the agent desktop still has the context).

Speaks ``ivr.handoff.HandoffService`` (enqueue, status, wait_info, cancel);
synchronous look-alikes are accepted too.
"""
from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.clock import Clock
from ivr.frames import Say, Transfer
from ivr.handoff.call_side import CallHandoff

# ticket statuses (ivr.handoff.models): an agent has the call / the ticket left the queue without one
TAKEN_STATES = frozenset({"connected", "wrap_up", "done"})
GONE_STATES = frozenset({"abandoned", "cancelled"})


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def build_bundle(state: Any, *, call_id: str, caller: str, transfer: Transfer, transcript: list[dict],
                 started_wall: float) -> Any:
    """A ``ContextBundle`` from the dialog state; the transcript is the
    session's (caller turns and bot prompts, in call time) when the state's own
    ``turns`` hold no text."""
    from ivr.handoff import ContextBundle
    from ivr.handoff.bundle import TranscriptTurn

    bundle = ContextBundle.from_dialog(state, call_id=call_id, caller_number=caller, reason=transfer.reason,
                                       note=transfer.note, started_at=started_wall)
    if not bundle.transcript and transcript:
        turns = tuple(TranscriptTurn(float(t["at"]), t["speaker"], t["text"], t.get("confidence")) for t in transcript)
        bundle = type(bundle).from_dict({**bundle.to_dict(), "transcript": [x.to_dict() for x in turns]})
    return bundle


def hold_text(language: str, position: int | None, wait_s: float | None) -> str:
    parts = []
    if position is not None:
        parts.append(f"您前面還有 {max(0, position - 1)} 位客戶" if position > 1 else "下一位就是您")
    if wait_s is not None and wait_s > 0:
        parts.append(f"預計等候約 {max(1, round(wait_s / 60))} 分鐘")
    if not parts:
        return "專人忙線中，請稍候"
    return "，".join(parts) + "，請稍候"


class Hold:
    """Waits on the queue; ``say`` plays one announcement (the session's
    prompt path, so it is recorded like any other prompt)."""

    def __init__(self, handoff: CallHandoff, clock: Clock, say: Callable[[Say], Awaitable[Any]],
                 announce_every: float = 30.0, poll_every: float = 1.0, max_hold: float = 1800.0,
                 outage: Any = None) -> None:
        self.outage = outage  # ivr.session.outage.OutageLine: rides out a store outage with the caller
        self.handoff = handoff
        self.clock = clock
        self.say = say
        self.announce_every = announce_every
        self.poll_every = poll_every
        self.max_hold = max_hold

    async def _status(self, ticket: Any) -> str:
        st = await maybe_await(self.handoff.status(ticket))
        return str(getattr(st, "status", st) or "").lower()

    async def _position(self, ticket: Any) -> tuple[int | None, float | None]:
        info = await maybe_await(self.handoff.wait_info(ticket))
        wait = info.estimated_wait
        return info.position, (None if wait is None or math.isinf(wait) else float(wait))

    async def _guarded(self, op: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
        if self.outage is None:
            return True, await op()
        return await self.outage.run(op)

    async def run(self, ticket: Any, language: str) -> str:
        """Returns ``taken``, ``left_queue``, ``max_hold`` or ``store_outage``
        (a hangup cancels this task)."""
        start = self.clock.now()
        next_announce = start
        while self.clock.now() - start < self.max_hold:
            ok, status = await self._guarded(lambda: self._status(ticket))
            if not ok:
                return "store_outage"
            if status in TAKEN_STATES:
                return "taken"
            if status in GONE_STATES:
                return "left_queue"
            if self.clock.now() >= next_announce:
                ok, where = await self._guarded(lambda: self._position(ticket))
                if not ok:
                    return "store_outage"
                pos, wait = where
                await self.say(Say("hold.position", language, hold_text(language, pos, wait)))
                next_announce = self.clock.now() + self.announce_every
            await self.clock.sleep(self.poll_every)
            await asyncio.sleep(0)
        return "max_hold"


# session outcomes -> ivr.handoff.CALL_OUTCOMES (the bot-containment figures)
HANDOFF_OUTCOMES = {"self_served": "contained", "handed_off": "transferred", "abandoned": "abandoned",
                    "failed": "failed"}


class QueueLink:
    """One call's side of the agent queue: enqueue with context, hold, leave
    the queue when the caller hangs up on hold, report the call's outcome.
    ``event(kind, **data)`` writes to the call record."""

    def __init__(self, handoff: CallHandoff, clock: Clock, event: Callable[..., None], *, call_id: str, caller: str,
                 started_wall: float) -> None:
        self.handoff = handoff
        self.clock = clock
        self.event = event
        self.call_id, self.caller, self.started_wall = call_id, caller, started_wall
        self.ticket: Any = None
        self.hold_result: str | None = None

    async def enqueue(self, state: Any, transfer: Transfer, transcript: list[dict]) -> Any:
        bundle = build_bundle(state or {}, call_id=self.call_id, caller=self.caller, transfer=transfer,
                              transcript=transcript, started_wall=self.started_wall)
        self.ticket = await maybe_await(self.handoff.enqueue(bundle, transfer.queue, transfer.priority))
        self.event("transfer", queue=transfer.queue, reason=transfer.reason,
                   ticket=str(getattr(self.ticket, "id", self.ticket)))
        return self.ticket

    async def hold(self, say: Callable[[Say], Awaitable[Any]], language: str, announce_every: float,
                   poll_every: float, max_hold: float, outage: Any = None) -> str:
        hold = Hold(self.handoff, self.clock, say, announce_every, poll_every, max_hold, outage)
        self.hold_result = await hold.run(self.ticket, language)
        self.event("hold", result=self.hold_result)
        return self.hold_result

    async def finish(self, outcome: str, reason: str) -> None:
        if self.ticket is not None and self.hold_result is None and reason == "hangup":
            await maybe_await(self.handoff.cancel(self.ticket, "caller_hangup"))
            self.event("hold", result="caller_hung_up")
        if hasattr(self.handoff, "record_call_outcome"):
            await maybe_await(self.handoff.record_call_outcome(HANDOFF_OUTCOMES[outcome], self.call_id))
