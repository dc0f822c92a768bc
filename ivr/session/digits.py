"""Key collection for one Listen, as a stage of its own: DTMF digits in, the
caller's keyed answer out.

Rules (what a caller of a telephone-banking line expects):
- a step that takes one key answers on the first key;
- a multi-key step answers when ``max_digits`` keys are in, when the caller
  presses the terminator (``#``: what they keyed so far, or ``#`` itself when
  nothing was keyed, which the dialog reads as a command), or when
  ``inter_digit_timeout_s`` passes after the last key;
- before the first key, the step's no-input timeout applies instead.

Pure: no clock, no I/O — the session asks ``wait_s()`` for how long to wait
and calls ``key()`` / ``expired()``; tests drive it with events alone."""
from __future__ import annotations

from dataclasses import dataclass

from ivr.frames import DtmfDigit, Listen, UserInput


@dataclass
class DigitCollector:
    max_digits: int = 1
    terminator: str = "#"
    inter_digit_timeout_s: float = 3.0
    no_input_timeout_s: float = 5.0
    digits: str = ""

    @classmethod
    def for_listen(cls, listen: Listen, inter_digit_timeout_s: float) -> DigitCollector:
        return cls(max_digits=listen.dtmf_max_digits, terminator=listen.dtmf_terminator,
                   inter_digit_timeout_s=inter_digit_timeout_s, no_input_timeout_s=listen.no_input_timeout_ms / 1000)

    @property
    def started(self) -> bool:
        return bool(self.digits)

    def wait_s(self) -> float:
        """How long to wait for the next key (or speech) before ``expired()``."""
        return self.inter_digit_timeout_s if self.digits else self.no_input_timeout_s

    def key(self, digit: DtmfDigit) -> UserInput | None:
        """The answer, when this key completes it; None while more keys may come."""
        if digit.digit == self.terminator and self.max_digits > 1:
            return UserInput(dtmf=self.digits or digit.digit, timestamp=digit.timestamp)
        self.digits += digit.digit
        if len(self.digits) >= self.max_digits:
            return UserInput(dtmf=self.digits, timestamp=digit.timestamp)
        return None

    def expired(self, now: float) -> UserInput | None:
        """The wait ran out: the keys so far are the answer, or None (no input)."""
        return UserInput(dtmf=self.digits, timestamp=now) if self.digits else None
