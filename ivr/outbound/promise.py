"""A promise-to-pay date, said or keyed, relative to today (Asia/Taipei).

Callers name a day the way people do: 十二月二十號, 12月20日, 明天, 後天,
下禮拜五, 這週三, 月底, 十天後, Taiwanese 明仔載, 後日; or key it: MMDD (1220), YYYYMMDD, or a Minguo
YYYMMDD (1151220). A month-day without a year is the next one to come."""
from __future__ import annotations

import datetime as dt
import re

from ivr.nlu.numbers import fold_numerals, parse_value

_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_RELATIVE = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "後天": 2, "大後天": 3, "下禮拜": 7, "下週": 7, "下周": 7,
             # Taiwanese: kin-á-ji̍t, bîn-á-tsài, āu--ji̍t
             "今仔日": 0, "明仔載": 1, "明仔再": 1, "後日": 2}
_NUM = r"[0-9０-９一二三四五六七八九十兩两零〇]+"


def _num(s: str) -> int | None:
    f = fold_numerals(s.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    if f.isdigit():
        return int(f)
    return parse_value(s) if s else None  # a lone 一, 三: numerals fold_numerals leaves as words


def _month_day(today: dt.date, month: int, day: int, year: int | None = None) -> dt.date | None:
    try:
        if year is not None:
            return dt.date(year, month, day)
        d = dt.date(today.year, month, day)
        return d if d >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


def from_keys(keys: str, today: dt.date) -> dt.date | None:
    k = keys.strip().rstrip("#")
    if not k.isdigit():
        return None
    if len(k) == 4:
        return _month_day(today, int(k[:2]), int(k[2:]))
    if len(k) == 8:
        return _month_day(today, int(k[4:6]), int(k[6:]), int(k[:4]))
    if len(k) == 7:  # Minguo year + 1911
        return _month_day(today, int(k[3:5]), int(k[5:]), int(k[:3]) + 1911)
    return None


def from_speech(text: str, today: dt.date) -> dt.date | None:
    t = re.sub(r"\s+", "", text)
    m = re.search(rf"(?:(?:民國)?({_NUM})年)?({_NUM})月({_NUM})(?:日|號|号)?", t)
    if m:
        year, month, day = (_num(g) if g else None for g in m.groups())
        if month is not None and day is not None:
            if year is not None and year < 1000:
                year += 1911
            return _month_day(today, month, day, year)
    m = re.search(rf"({_NUM})天(?:後|后|以後)", t)
    if m and (n := _num(m.group(1))) is not None:
        return today + dt.timedelta(days=n)
    m = re.search(r"(下下|下|這|这|本)?(?:個)?(?:禮拜|星期|週|周)([一二三四五六日天末])", t)
    if m:
        target = _WEEKDAY[m.group(2)]
        this_monday = today - dt.timedelta(days=today.weekday())
        weeks = {"下下": 2, "下": 1}.get(m.group(1) or "", 0)
        d = this_monday + dt.timedelta(days=7 * weeks + target)
        return d if d >= today else d + dt.timedelta(days=7)
    for word in sorted(_RELATIVE, key=len, reverse=True):
        if word in t:
            return today + dt.timedelta(days=_RELATIVE[word])
    if "月底" in t:
        first_next = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return first_next - dt.timedelta(days=1)
    m = re.search(rf"({_NUM})(?:日|號|号)", t)  # "二十號": this month's, else next month's
    if m and (day := _num(m.group(1))) is not None:
        this_month = _month_day(today, today.month, day)
        if this_month is not None and this_month >= today:
            return this_month
        nxt = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return _month_day(nxt, nxt.month, day, nxt.year)
    return None


# Taiwan has kept UTC+8 without daylight saving since 1979: today in Taipei is
# the UTC date of now + 8 h.
TAIPEI_TODAY_OFFSET = 8 * 3600
