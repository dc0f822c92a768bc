"""Taiwanese Hokkien verbalizers, written in the Han characters used for
Taiwanese (MOE recommended): zero is 空 (khòng), the currency unit 箍 (khoo).

There is no Taiwanese voice: this text is what the Mandarin voice reads when a
nan-TW recording is missing, and the clip names for ``number_clips`` come from
it, so both paths agree on the words.
"""
from __future__ import annotations

from ivr.prompts.errors import VerbalizeError
from ivr.prompts.numbers import cardinal, digit_string, parse_amount

ZERO_NAN = "空"


def verbalize_number_nan(n: int, *, measure: bool = False) -> str:
    """1230 -> 一千兩百三十; 105 -> 一百空五."""
    if isinstance(n, int) and not isinstance(n, bool) and n < 0:
        return "負" + cardinal(-n, zero=ZERO_NAN, measure=measure)
    return cardinal(n, zero=ZERO_NAN, measure=measure)


def verbalize_amount_nan(value: object, *, unit: str = "箍") -> str:
    """1230 -> 一千兩百三十箍; 12.5 -> 十二箍五角; cents as 角/分."""
    d = parse_amount(value, "amount")
    sign = "負" if d < 0 else ""
    d = abs(d)
    whole = int(d)
    jiao, fen = divmod(int((d - whole) * 100), 10)
    out = cardinal(whole, zero=ZERO_NAN, measure=True) + unit if whole or not (jiao or fen) else ""
    if jiao:
        out += cardinal(jiao, zero=ZERO_NAN, measure=True) + "角"
    if fen:
        out += (ZERO_NAN if whole and not jiao else "") + cardinal(fen, zero=ZERO_NAN, measure=True) + "分"
    return sign + out


def verbalize_digits_nan(digits: str) -> str:
    """0912 -> 空九一二 (Taiwanese reads 0 as khòng and has no 么)."""
    s = "".join(str(digits).split()).replace("-", "")
    if not s:
        raise VerbalizeError(f"not a digit string: {digits!r}", "digits")
    return digit_string(s, zero=ZERO_NAN)
