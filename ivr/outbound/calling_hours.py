"""When a campaign may call: its windows in Asia/Taipei wall time, never on a
national holiday (from the campaign's holiday file), and, when there is a
holiday file, never on a day of a year it has no date for: a list written
for 2026 says nothing about 1 January 2027, and a debt-collection call on a
holiday is the mistake the file exists to prevent (logged once per run).

Times in the scheduler are epoch seconds; ``CallingCalendar.next_open(t)``
is the first moment at or after ``t`` a call may start."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.log import get_logger
from ivr.outbound.campaign import DAYS, CampaignError, Window, minutes

log = get_logger(__name__)
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
    def __init__(self, windows: Sequence[Window], holidays: frozenset[dt.date] = frozenset(),
                 years: frozenset[int] | None = None) -> None:
        """``years`` the holiday list covers (default: the years it has a date in;
        empty with no holidays: every year)."""
        self.holidays = holidays
        self.years = years if years is not None else frozenset(d.year for d in holidays)
        self._warned = False
        # weekday (0 = Monday) -> [(start minute, end minute)], sorted
        self._by_day: dict[int, list[tuple[int, int]]] = {i: [] for i in range(7)}
        for w in windows:
            for d in w.days:
                self._by_day[DAYS.index(d)].append((minutes(w.from_), minutes(w.to)))
        for spans in self._by_day.values():
            spans.sort()

    def covers(self, day: dt.date) -> bool:
        """Whether the holiday list speaks for ``day``'s year."""
        return not self.years or day.year in self.years

    def _closed(self, day: dt.date) -> bool:
        if day in self.holidays:
            return True
        if self.covers(day):
            return False
        if not self._warned:  # once: next_open looks a year ahead, into the year after too
            self._warned = True
            covered = ", ".join(str(y) for y in sorted(self.years))
            log.warning("holiday file has no dates for %d (it covers %s): no calls in %d or later uncovered years "
                        "until their dates are added", day.year, covered, day.year)
        return True

    def is_open(self, t: float) -> bool:
        local = dt.datetime.fromtimestamp(t, TAIPEI)
        if self._closed(local.date()):
            return False
        m = local.hour * 60 + local.minute + local.second / 60
        return any(a <= m < b for a, b in self._by_day[local.weekday()])

    def next_open(self, t: float) -> float | None:
        """The first moment at or after ``t`` inside a window (None: no window in the next 400 days)."""
        local = dt.datetime.fromtimestamp(t, TAIPEI)
        day = local.date()
        for k in range(400):
            d = day + dt.timedelta(days=k)
            if self._closed(d):
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
