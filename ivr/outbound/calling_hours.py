"""When a campaign may call: its windows in Asia/Taipei wall time, never on a
national holiday (from the campaign's holiday file).

Times in the scheduler are epoch seconds; ``CallingCalendar.next_open(t)``
is the first moment at or after ``t`` a call may start."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.outbound.campaign import DAYS, CampaignError, Window, minutes

TAIPEI = ZoneInfo("Asia/Taipei")


def read_holidays(path: Path) -> frozenset[dt.date]:
    """One ``YYYY-MM-DD`` per line, anything after ``#`` a comment (a name: 國慶日)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CampaignError(f"cannot read holiday file: {e.strerror or e}", str(path)) from None
    days = set()
    for n, line in enumerate(text.splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        try:
            days.add(dt.date.fromisoformat(s.split()[0]))
        except ValueError:
            raise CampaignError(f"not a date (YYYY-MM-DD): {s[:40]!r}", f"{path}:{n}") from None
    return frozenset(days)


class CallingCalendar:
    def __init__(self, windows: Sequence[Window], holidays: frozenset[dt.date] = frozenset()) -> None:
        self.holidays = holidays
        # weekday (0 = Monday) -> [(start minute, end minute)], sorted
        self._by_day: dict[int, list[tuple[int, int]]] = {i: [] for i in range(7)}
        for w in windows:
            for d in w.days:
                self._by_day[DAYS.index(d)].append((minutes(w.from_), minutes(w.to)))
        for spans in self._by_day.values():
            spans.sort()

    def is_open(self, t: float) -> bool:
        local = dt.datetime.fromtimestamp(t, TAIPEI)
        if local.date() in self.holidays:
            return False
        m = local.hour * 60 + local.minute + local.second / 60
        return any(a <= m < b for a, b in self._by_day[local.weekday()])

    def next_open(self, t: float) -> float | None:
        """The first moment at or after ``t`` inside a window (None: no window in the next 400 days)."""
        local = dt.datetime.fromtimestamp(t, TAIPEI)
        day = local.date()
        for k in range(400):
            d = day + dt.timedelta(days=k)
            if d in self.holidays:
                continue
            midnight = dt.datetime(d.year, d.month, d.day, tzinfo=TAIPEI)
            for a, b in self._by_day[d.weekday()]:
                start = midnight + dt.timedelta(minutes=a)
                end = midnight + dt.timedelta(minutes=b)
                if end.timestamp() <= t:
                    continue
                return max(t, start.timestamp())
        return None

    def closes_at(self, t: float) -> float:
        """When the window open at ``t`` ends (``t`` itself when closed)."""
        local = dt.datetime.fromtimestamp(t, TAIPEI)
        if not self.is_open(t):
            return t
        midnight = dt.datetime(local.year, local.month, local.day, tzinfo=TAIPEI)
        m = local.hour * 60 + local.minute + local.second / 60
        for a, b in self._by_day[local.weekday()]:
            if a <= m < b:
                return (midnight + dt.timedelta(minutes=b)).timestamp()
        return t
