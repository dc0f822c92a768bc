"""Digit collection as its own stage: events in, the keyed answer out."""
from __future__ import annotations

import pytest

from ivr.frames import DtmfDigit, Listen, UserInput
from ivr.session.digits import DigitCollector
from tests.session.stage import Timeout, run_stage


def keys(s: str, t0: float = 1.0, gap: float = 0.4) -> list[DtmfDigit]:
    return [DtmfDigit(d, t0 + i * gap) for i, d in enumerate(s)]


@pytest.mark.parametrize(("max_digits", "events", "expected"), [
    # one key answers a one-key step at once
    (1, keys("3"), [UserInput(dtmf="3", timestamp=1.0)]),
    # max digits reached
    (4, keys("1234"), [None, None, None, UserInput(dtmf="1234", timestamp=2.2)]),
    # '#' ends early with what was keyed
    (11, keys("12#"), [None, None, UserInput(dtmf="12", timestamp=1.8)]),
    # '#' alone is passed on (the dialog reads it as a command)
    (4, keys("#"), [UserInput(dtmf="#", timestamp=1.0)]),
    # the inter-digit timeout ends a partial entry
    (6, [*keys("12"), Timeout(5.0)], [None, None, UserInput(dtmf="12", timestamp=5.0)]),
    # no key before the timeout: no input
    (4, [Timeout(5.0)], [None]),
    # on a one-key step '#' is a key like any other
    (1, keys("#"), [UserInput(dtmf="#", timestamp=1.0)]),
])
def test_collects(max_digits: int, events: list, expected: list) -> None:
    assert run_stage(DigitCollector(max_digits=max_digits), events) == expected


def test_waits_no_input_then_inter_digit() -> None:
    listen = Listen("pin", "digits", (), dtmf_max_digits=4, no_input_timeout_ms=7000)
    c = DigitCollector.for_listen(listen, inter_digit_timeout_s=2.5)
    assert c.wait_s() == 7.0
    assert c.key(DtmfDigit("1", 1.0)) is None
    assert c.wait_s() == 2.5 and c.started
