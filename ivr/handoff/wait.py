"""How long a caller joining a queue will wait, and what the announcement says.

Erlang C over the arrival rate and handle time observed in the stats window
and the agents staffed now (logged in with the skill). When the observed
load would swamp the agents, or callers are already queued, the line-based
estimate (callers ahead + 1) x AHT / agents is used: the line in front
matters more than averages."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.handoff import erlang
from ivr.handoff.models import AWAY, AgentProfile, AgentState, QueueConfig, Ticket


@dataclass(frozen=True, slots=True)
class WaitInfo:
    """What the caller hears: 'you are number 3, about 4 minutes'."""

    ticket_id: str
    queue: str
    position: int | None
    estimated_wait: float          # seconds; inf when nobody staffs the queue
    minutes: int | None            # rounded up for the announcement, None if unknown
    agents_staffed: int
    callback_offered: bool         # suggest a callback when the wait is long

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if math.isinf(self.estimated_wait):
            d["estimated_wait"] = None
        return d


@dataclass(frozen=True, slots=True)
class WaitInputs:
    """What the estimate is made of, for one queue now."""

    agents: int        # staffed: may serve the queue and not away
    aht: float         # mean handle time (s) observed, else the queue's default
    rate: float        # arrivals per second observed
    queued: int        # callers waiting now


def wait_inputs(q: QueueConfig, agents: Iterable[tuple[AgentProfile, AgentState]],
                events: Iterable[Mapping[str, Any]], queued: int, now: float, window: float) -> WaitInputs:
    """The estimate's inputs from the store's agents and its events in the stats window."""
    staffed = sum(1 for p, s in agents if p.can_serve(q.name) and s.status != AWAY)
    mine = [e for e in events if e.get("queue") == q.name]
    handles = [float(e["handle"]) for e in mine if e["type"] == "wrapped"]
    arrivals = [float(e["at"]) for e in mine if e["type"] == "enqueued"]
    aht = sum(handles) / len(handles) if handles else q.default_handle_time
    span = min(window, max(60.0, now - min(arrivals))) if arrivals else window
    return WaitInputs(agents=staffed, aht=aht, rate=len(arrivals) / span, queued=queued)


def expected_wait(inputs: WaitInputs, position: int) -> float:
    """Seconds until the caller at ``position`` (1 = next) is answered; inf when nobody staffs the queue."""
    n, aht, rate = inputs.agents, inputs.aht, inputs.rate
    if n <= 0:
        return math.inf
    steady = erlang.mean_wait(n, rate, aht)
    if inputs.queued == 0 and not math.isinf(steady):
        return steady
    return max(0.0 if math.isinf(steady) else steady, erlang.positional_wait(position, n, aht))


def announcement(ticket: Ticket, position: int | None, inputs: WaitInputs, callback_threshold: float) -> WaitInfo:
    """Position and expected wait for the caller holding ``ticket`` (gone from the line: position None)."""
    ewt = expected_wait(inputs, position=position) if position else 0.0
    minutes = None if math.isinf(ewt) else max(1, math.ceil(ewt / 60.0)) if position else 0
    return WaitInfo(ticket.id, ticket.queue, position, ewt, minutes, inputs.agents,
                    callback_offered=bool(position) and not ticket.is_callback and ewt >= callback_threshold)


def finite_seconds(x: float) -> float | None:
    """For JSON views: None for an unknown (infinite) wait, else rounded to 0.1 s."""
    return None if math.isinf(x) else round(x, 1)
