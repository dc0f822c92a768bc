"""The ``Dialer`` seam: place one outbound call and say how it ended.

The campaign scheduler only ever talks to this typed base. The SIP room
provides the real dialer (``ivr dial``: INVITE, answering-machine detection on
the answered leg, the campaign's flow through a ``CallSession``, a voicemail
drop); ``FakeDialer`` answers from a script on the virtual clock for tests."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ivr.clock import Clock

# How a dial attempt ended. ``answered``: a person took it and the flow ran
# (its own result, e.g. promised_to_pay, is in ``DialResult.flow_result``);
# ``voicemail``: a machine answered (AMD) and the voicemail drop, if any, played.
DialOutcome = Literal["answered", "no_answer", "busy", "voicemail", "failed", "rejected"]
OUTCOMES: tuple[DialOutcome, ...] = ("answered", "no_answer", "busy", "voicemail", "failed", "rejected")


@dataclass(frozen=True)
class DialRequest:
    campaign: str
    contact_id: str
    number: str                  # the callee, national form (0912345678)
    caller_id: str               # the number shown to the callee
    flow: str                    # the flow run when a person answers
    attempt: int                 # 1 for the first try
    variables: Mapping[str, str] = field(default_factory=dict)  # the contact's CSV columns, as flow slots
    voicemail_drop: bool = False  # a machine answered: leave the campaign's message


@dataclass(frozen=True)
class DialResult:
    outcome: DialOutcome
    call_id: str = ""
    flow_result: str = ""        # what the flow left in slot `call_result`: promised_to_pay, blocked, ...
    transferred: bool = False    # the callee went on to an agent
    abandoned: bool = False      # answered and asked for a person, but no agent came in time (progressive mode)
    talk_seconds: float = 0.0
    detail: str = ""             # SIP status, AMD verdict, error: for the report


class Dialer(ABC):
    """Places calls. ``dial`` returns when the call is over (or never
    connected); it never raises for a callee's behaviour, only reports it."""

    @abstractmethod
    async def dial(self, request: DialRequest) -> DialResult:
        """Call ``request.number`` and run the flow if a person answers."""


Script = Callable[[DialRequest], tuple[DialResult, float]]


class FakeDialer(Dialer):
    """Answers from a script: ``script(request) -> (result, seconds the call
    takes)``, the seconds spent on ``clock``. Records every request and the
    clock time it was placed, and the most calls ever in flight at once."""

    def __init__(self, clock: Clock, script: Script) -> None:
        self.clock, self.script = clock, script
        self.placed: list[tuple[float, DialRequest]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def dial(self, request: DialRequest) -> DialResult:
        self.placed.append((self.clock.now(), request))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            result, seconds = self.script(request)
            await self.clock.sleep(seconds)
            return result
        finally:
            self.in_flight -= 1


def by_number(outcomes: Mapping[str, list[DialOutcome]], *, talk: float = 60.0, ring: float = 25.0,
              flow_result: str = "") -> Script:
    """A script from each number's outcomes, attempt by attempt (the last one repeats)."""
    def script(req: DialRequest) -> tuple[DialResult, float]:
        seq = outcomes.get(req.number) or ["no_answer"]
        outcome = seq[min(req.attempt, len(seq)) - 1]
        secs = talk if outcome == "answered" else 20.0 if outcome == "voicemail" else 2.0 if outcome == "busy" else ring
        return DialResult(outcome, call_id=f"{req.contact_id}-{req.attempt}",
                          flow_result=flow_result if outcome == "answered" else ""), secs
    return script
