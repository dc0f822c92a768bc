"""Chinese cardinal numbers shared by the Mandarin and Taiwanese verbalizers.

Both languages write numbers with the same Han place system; they differ in
the zero word (Mandarin 零, Taiwanese 空) and in the currency word, which the
callers supply.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ivr.prompts.errors import VerbalizeError

DIGITS = "零一二三四五六七八九"
_PLACES = ("千", "百", "十", "")
# 萬 groups: each step is 10**4; 兆 (10**12) is the largest unit a call centre reads.
_GROUPS = ("", "萬", "億", "兆")
MAX_CARDINAL = 10**16 - 1


def _group(g: int, *, leading: bool, two_alone: bool, zero: str) -> str:
    """Read 1..9999. 兩 replaces 二 before 百/千 and for a group that is exactly 2
    when a unit follows (兩萬, 兩元); 二 stays in tens and ones (十二, 二十二).
    A leading 1 before 十 is dropped only at the very start (十五, but 一百一十)."""
    digits = (g // 1000, g // 100 % 10, g // 10 % 10, g % 10)
    out, started, gap = [], False, False
    for pos, d in enumerate(digits):
        if d == 0:
            gap = started
            continue
        if gap:
            out.append(zero)
            gap = False
        if (d == 2 and pos < 2) or (d == 2 and pos == 3 and not started and two_alone):
            word = "兩"
        elif d == 1 and pos == 2 and not started and leading:
            word = ""
        else:
            word = DIGITS[d]
        out.append(word + _PLACES[pos])
        started = True
    return "".join(out)


def cardinal(n: int, *, zero: str = "零", measure: bool = False) -> str:
    """Han reading of a non-negative integer. ``measure``: a unit word follows,
    so a bare 2 reads 兩 (兩元) rather than 二."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise VerbalizeError(f"not an integer: {n!r}", "cardinal")
    if n < 0 or n > MAX_CARDINAL:
        raise VerbalizeError(f"{n} is out of range 0..{MAX_CARDINAL}", "cardinal")
    if n == 0:
        return zero
    groups = []
    rest = n
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    out: list[str] = []
    skipped = False
    for idx in range(len(groups) - 1, -1, -1):
        g, unit = groups[idx], _GROUPS[idx]
        if g == 0:
            skipped = bool(out)
            continue
        # One 零 bridges any run of zeros between two non-zero digits.
        if out and (skipped or g < 1000):
            out.append(zero)
        out.append(_group(g, leading=not out, two_alone=bool(unit) or (measure and not out), zero=zero) + unit)
        skipped = False
    return "".join(out)


def digit_string(digits: str, *, zero: str = "零", one: str = "一") -> str:
    """Digit-by-digit reading ("0912" -> 零九一二); ``one`` may be 么."""
    table = dict(zip("0123456789", zero + one + DIGITS[2:], strict=False))
    bad = [c for c in digits if c not in table]
    if bad or not digits:
        raise VerbalizeError(f"not a digit string: {digits!r}", "digits")
    return "".join(table[c] for c in digits)


def parse_amount(value: object, where: str) -> Decimal:
    """int, Decimal, float or a string like "1,230.50" / "NT$1230" -> Decimal rounded to cents."""
    if isinstance(value, bool):
        raise VerbalizeError(f"not an amount: {value!r}", where)
    if isinstance(value, (int, Decimal)):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))
    elif isinstance(value, str):
        s = value.strip().replace(",", "").replace("，", "")
        for prefix in ("NT$", "NTD", "$"):
            if s.upper().startswith(prefix):
                s = s[len(prefix):].strip()
        for suffix in ("元", "塊"):
            s = s.removesuffix(suffix)
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise VerbalizeError(f"not an amount: {value!r}", where) from None
    else:
        raise VerbalizeError(f"not an amount: {value!r}", where)
    if not d.is_finite():
        raise VerbalizeError(f"not a finite amount: {value!r}", where)
    d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if abs(d) > MAX_CARDINAL:
        raise VerbalizeError(f"amount {value!r} is too large (max {MAX_CARDINAL})", where)
    return d
