"""Start-up after a crash: calls a dead worker left open are closed as
``interrupted``, and the handoff tickets they queued are withdrawn, so agents
are not offered calls whose line is gone."""
from __future__ import annotations

from dataclasses import dataclass, field

from ivr.log import get_logger
from ivr.session.records import CallRecords
from ivr.session.transfer import maybe_await

log = get_logger(__name__)


@dataclass
class Recovered:
    calls: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # tickets taken off the queue


async def recover_interrupted(records: CallRecords, handoff: object | None = None) -> Recovered:
    """Close dead workers' open records; withdraw their still-waiting tickets.
    A queue that cannot be reached is logged, not raised: start-up goes on."""
    done = Recovered()
    for call_id, tickets in records.close_interrupted():
        done.calls.append(call_id)
        for ticket in tickets:
            if handoff is None or not hasattr(handoff, "cancel"):
                continue
            try:
                if await maybe_await(handoff.cancel(ticket, "call_interrupted")):
                    done.withdrawn.append(ticket)
            except Exception as e:  # an unknown ticket or a store that is down: the record is still closed
                log.warning("could not withdraw ticket %s of interrupted call: %s", ticket, e,
                            extra={"call_id": call_id, "ticket": ticket})
    if done.calls:
        log.warning("closed %d call(s) left open by a dead worker; withdrew %d queued ticket(s)",
                    len(done.calls), len(done.withdrawn))
    return done
