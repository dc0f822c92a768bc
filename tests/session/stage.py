"""``run_stage(stage, events_in) -> outputs``: drive one pure stage of the call
loop with events alone (Pipecat's run_test idea), so each stage is tested
without a session, a clock or audio."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.frames import DtmfDigit, UserInput
from ivr.session.digits import DigitCollector


@dataclass(frozen=True)
class Timeout:
    """The wait the stage asked for (``wait_s()``) ran out at call time ``t``."""

    t: float


def run_stage(stage: DigitCollector, events_in: Iterable[DtmfDigit | Timeout]) -> list[UserInput | None]:
    """What the stage answered, one entry per event (None: still collecting,
    or no input when a timeout found no keys); stops at the first answer."""
    out: list[UserInput | None] = []
    for ev in events_in:
        got = stage.expired(ev.t) if isinstance(ev, Timeout) else stage.key(ev)
        out.append(got)
        if got is not None:
            break
    return out
