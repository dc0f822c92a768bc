"""Personal data out of logs and exports.

Taiwan national IDs, card numbers, account numbers and phone numbers are
masked before any text leaves the agent's screen. Full-width digits are folded
first so ``Ａ１２３…`` cannot slip past."""
from __future__ import annotations

import re
from typing import Any

_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)})

# Taiwan ID / resident certificate: letter + 9 digits (2nd: 1/2 citizen, 8/9 ARC; or letter for old ARC).
_TW_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][12890A-Da-d]\d{8}(?![A-Za-z0-9])")
# Phone numbers: 09xx-xxx-xxx mobiles, +886, landlines (0x-xxxx-xxxx), with optional separators.
_PHONE = re.compile(r"(?<!\d)(?:\+?886[- ]?|0)(?:9\d{2}|\d{1,2})[- ]?\d{3,4}[- ]?\d{3,4}(?!\d)")
# Any other long digit run (card 13-19, account 10-16, PIN-like code strings of 6+).
_DIGITS = re.compile(r"(?<!\d)\d(?:[- ]?\d){5,}(?!\d)")


def _mask(m: re.Match[str]) -> str:
    s = m.group(0)
    digits = [c for c in s if c.isalnum()]
    keep = 2 if len(digits) > 8 else 0
    return "*" * (len(digits) - keep) + "".join(digits[len(digits) - keep:]) if keep else "*" * len(digits)


def redact(text: str) -> str:
    """Mask personal data in free text; keeps the last two of a long number so
    an agent or auditor can still tell records apart."""
    if not text:
        return text
    t = text.translate(_FULLWIDTH)
    t = _TW_ID.sub(_mask, t)
    t = _PHONE.sub(_mask, t)
    t = _DIGITS.sub(_mask, t)
    return t


def redact_obj(obj: Any) -> Any:
    """Redact every string inside dicts/lists/tuples (for JSON logs and exports)."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_obj(v) for v in obj)
    return obj
