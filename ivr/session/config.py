"""How calls behave: timeouts, barge-in, hold. One per server; every call shares it."""
from __future__ import annotations

from dataclasses import dataclass, field

from ivr.session.turns import BargeInPolicy


@dataclass(frozen=True)
class SessionConfig:
    max_call_seconds: float = 900.0
    inter_digit_timeout_s: float = 3.0
    backend_timeout_s: float = 5.0
    barge_in: BargeInPolicy = field(default_factory=BargeInPolicy)
    hold_announce_every_s: float = 30.0
    hold_poll_s: float = 1.0
    max_hold_s: float = 1800.0
    error_queue: str = "T1"  # where a call goes when the bot itself fails
    # The handoff store down or hung: the caller hears the busy prompt and a hold
    # tone while it is retried this long, then the fallback (call back later,
    # or this emergency number when set).
    store_retry_s: float = 20.0
    store_retry_every_s: float = 2.0
    emergency_number: str = ""
    language: str = "zh-TW"
    # speech at least this long that the recognizer rejects is a no-match (re-ask now)
    reject_min_speech_s: float = 0.5
    # end a turn after the step's short end_of_turn.complete_ms pause when what was heard already
    # completes its answer (ivr.dialog.end_of_turn); false: every turn waits its full silence
    early_end_of_turn: bool = True
