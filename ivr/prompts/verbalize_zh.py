"""Mandarin (Taiwan) verbalizers: values written the way a TTS voice should say them.

Pure functions; errors are ``VerbalizeError`` naming the bad value.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from ivr.prompts.errors import VerbalizeError
from ivr.prompts.numbers import cardinal, digit_string, parse_amount

_WEEKDAYS = "一二三四五六日"
ROC_OFFSET = 1911  # 民國 1 = 1912


def verbalize_number_zh(n: int, *, measure: bool = False) -> str:
    """1230 -> 一千兩百三十; negatives read 負."""
    if isinstance(n, int) and not isinstance(n, bool) and n < 0:
        return "負" + cardinal(-n, measure=measure)
    return cardinal(n, measure=measure)


def verbalize_amount_zh(value: object, *, cents: Literal["jiao", "point"] = "jiao", unit: str = "元") -> str:
    """Money: 1230 -> 一千兩百三十元; 12.05 -> 十二元零五分 (``cents="jiao"``) or
    十二點零五元 (``cents="point"``); -5 -> 負五元. Rounded half-up to cents."""
    d = parse_amount(value, "amount")
    sign = "負" if d < 0 else ""
    d = abs(d)
    whole = int(d)
    hundredths = int((d - whole) * 100)
    if hundredths == 0:
        return sign + cardinal(whole, measure=True) + unit
    if cents == "point":
        frac = f"{hundredths:02d}".rstrip("0")
        return sign + cardinal(whole) + "點" + digit_string(frac) + unit
    if cents != "jiao":
        raise VerbalizeError(f"cents must be 'jiao' or 'point', not {cents!r}", "amount")
    jiao, fen = divmod(hundredths, 10)
    out = cardinal(whole, measure=True) + unit if whole else ""
    if jiao:
        out += cardinal(jiao, measure=True) + "角"
    if fen:
        out += ("零" if whole and not jiao else "") + cardinal(fen, measure=True) + "分"
    return sign + out


def verbalize_digits_zh(digits: str, *, yao: bool = True) -> str:
    """Read a digit string one digit at a time; 1 is 么 (as for account,
    card and phone numbers) unless ``yao=False``. Spaces and dashes are skipped."""
    s = re.sub(r"[\s\-]", "", str(digits))
    return digit_string(s, one="么" if yao else "一")


def _phone_groups(s: str) -> list[str]:
    parts = [p for p in re.split(r"[\s\-().]+", s) if p]
    if len(parts) > 1:
        return parts
    d = parts[0] if parts else ""
    n = len(d)
    if n == 10 and d.startswith("0"):
        # mobile 09xx / toll-free 0800 read 4-3-3; other 10-digit numbers are 2-digit area + 8
        return [d[:4], d[4:7], d[7:]] if d[:2] in ("09", "08") else [d[:2], d[2:6], d[6:]]
    if n == 9 and d.startswith("0"):
        return [d[:2], d[2:5], d[5:]]
    if n <= 4:
        return [d]
    if n == 8:
        return [d[:4], d[4:]]
    # otherwise groups of three, the last one taking any remainder up to four
    groups = [d[i:i + 3] for i in range(0, n, 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:
        groups[-2] += groups.pop()
    return groups


def verbalize_phone_zh(number: str, *, yao: bool = True, pause: str = "，") -> str:
    """0912345678 -> 零九么二，三四五，六七八. Groups come from the caller's own
    separators when present, else Taiwan conventions (mobile 4-3-3, landline
    2-4-4); +886 becomes 0. ``pause`` (a comma) makes the TTS breathe."""
    s = str(number).strip()
    if s.startswith("+886"):
        s = "0" + s[4:].lstrip(" -")
    groups = _phone_groups(s)
    if not groups:
        raise VerbalizeError(f"not a phone number: {number!r}", "phone")
    try:
        return pause.join(digit_string(g, one="么" if yao else "一") for g in groups)
    except VerbalizeError:
        raise VerbalizeError(f"not a phone number: {number!r}", "phone") from None


def parse_date(value: object, where: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*", value)
        if m:
            try:
                return dt.date(*map(int, m.groups()))
            except ValueError as exc:
                raise VerbalizeError(f"not a valid date {value!r} ({exc})", where) from None
    raise VerbalizeError(f"not a date: {value!r} (want YYYY-MM-DD)", where)


def verbalize_date_zh(value: object, *, era: Literal["ad", "roc"] = "ad", weekday: bool = False) -> str:
    """2026-11-25 -> 二零二六年十一月二十五日; ``era="roc"`` -> 民國一百一十五年十一月二十五日.
    ``weekday`` appends 星期三."""
    d = parse_date(value)
    if era == "ad":
        year = digit_string(f"{d.year}")
    elif era == "roc":
        if d.year <= ROC_OFFSET:
            raise VerbalizeError(f"{d.isoformat()} is before 民國 1 (1912)", "date")
        year = "民國" + cardinal(d.year - ROC_OFFSET)
    else:
        raise VerbalizeError(f"era must be 'ad' or 'roc', not {era!r}", "date")
    out = f"{year}年{cardinal(d.month)}月{cardinal(d.day)}日"
    if weekday:
        out += "星期" + _WEEKDAYS[d.weekday()]
    return out
