"""The campaign scheduler on the virtual clock: windows in Asia/Taipei,
holidays, retry spacing per result, max attempts, the do-not-call list at
dial time, pacing. Deterministic: the same dials at the same seconds."""
from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from ivr.clock import VirtualClock
from ivr.outbound import CallingCalendar, CampaignRun, FakeDialer, load_campaign, read_contacts
from ivr.outbound.dialer import DialResult, by_number
from ivr.outbound.simulate import drive

TPE = ZoneInfo("Asia/Taipei")
FRI_2050 = dt.datetime(2026, 12, 4, 20, 50, tzinfo=TPE).timestamp()
NUMBERS = {"A": "0911000001", "B": "0911000002", "C": "0911000003", "D": "0911000004", "E": "0911000005",
           "F": "0911000006"}


@pytest.fixture
def campaign(tmp_path):
    (tmp_path / "list.csv").write_text("id,number,amount\n" + "".join(
        f"{k},{n},{100 * i}\n" for i, (k, n) in enumerate(NUMBERS.items(), 1)), encoding="utf-8")
    (tmp_path / "holidays.txt").write_text("2026-12-05  # a Saturday made a holiday\n", encoding="utf-8")
    (tmp_path / "dnc.txt").write_text(NUMBERS["E"] + "\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("""campaign: test
flow: payment_reminder
caller_id: "0227181234"
list: list.csv
windows:
  - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "21:00"}
  - {days: [sat], from: "10:00", to: "12:00"}
holidays: holidays.txt
dnc: dnc.txt
max_attempts: 3
retry_minutes: {no_answer: 60, busy: 10, voicemail: 240}
on_voicemail: retry
pacing: {max_in_flight: 2, calls_per_second: 1}
""", encoding="utf-8")
    return load_campaign(tmp_path / "c.yaml")


OUTCOMES = {NUMBERS["A"]: ["answered"], NUMBERS["B"]: ["busy", "busy", "answered"],
            NUMBERS["C"]: ["no_answer"], NUMBERS["D"]: ["voicemail"], NUMBERS["F"]: ["no_answer", "answered"]}


def run_campaign(campaign, on_attempt=None):
    clock = VirtualClock()
    dialer = FakeDialer(clock, by_number(OUTCOMES, flow_result="promised_to_pay"))
    ends = []

    def settled(a):
        ends.append((a, FRI_2050 + clock.now()))
        if on_attempt:
            on_attempt(a)

    import asyncio

    run = CampaignRun(campaign, read_contacts(campaign.list_path), dialer, clock, epoch=FRI_2050, on_attempt=settled)
    report = asyncio.run(drive(clock, run.run()))
    placed = [(FRI_2050 + t, r) for t, r in dialer.placed]
    return report, placed, ends, dialer


def taipei(t: float) -> str:
    return dt.datetime.fromtimestamp(t, TPE).strftime("%a %m-%d %H:%M:%S")


def test_schedule_respects_windows_holidays_spacing_and_pacing(campaign):
    dnc = campaign.dnc_path

    def add_f_to_dnc(a):  # F asks not to be called again after the first try: their retry is never dialled
        if a.contact_id == "F":
            dnc.write_text(dnc.read_text() + NUMBERS["F"] + "\n", encoding="utf-8")

    report, placed, ends, dialer = run_campaign(campaign, add_f_to_dnc)
    cal = CallingCalendar(campaign.spec.windows, campaign.holidays)
    # none outside the window, none on the holiday or Sunday, none to a do-not-call number
    assert all(cal.is_open(t) for t, _ in placed), [taipei(t) for t, _ in placed]
    assert not [t for t, _ in placed if dt.datetime.fromtimestamp(t, TPE).date() in
                (dt.date(2026, 12, 5), dt.date(2026, 12, 6))]
    assert [r.contact_id for _, r in placed].count("E") == 0 and [r.contact_id for _, r in placed].count("F") == 1
    # pacing: two calls up at most, one new call a second at most
    starts = [t for t, _ in placed]
    assert dialer.max_in_flight <= 2 and all(b - a >= 1.0 - 1e-6 for a, b in itertools.pairwise(starts))
    # each retry no sooner than the spacing for the result before it
    spacing = {"no_answer": 3600, "busy": 600, "voicemail": 4 * 3600}
    end_of = {(a.contact_id, a.attempt): t for a, t in ends}
    for t, r in placed:
        if r.attempt > 1:
            prev = next(a for a, _ in ends if a.contact_id == r.contact_id and a.attempt == r.attempt - 1)
            assert t >= end_of[(prev.contact_id, prev.attempt)] + spacing[prev.outcome]
    finals = {c["id"]: c["final"] for c in report.contacts}
    assert finals == {"A": "promised_to_pay", "B": "promised_to_pay", "C": "max_attempts", "D": "voicemail",
                      "E": "dnc", "F": "dnc"}
    t = report.totals
    assert (t["attempted"], t["reached"], t["promised_to_pay"], t["dnc"], t["voicemail"], t["max_attempts"]) == \
        (5, 2, 2, 2, 1, 1)
    assert all(c["number"].startswith("*******") for c in report.contacts)  # masked in the report


def test_schedule_is_deterministic_to_the_second(campaign):
    first = [(taipei(t), r.contact_id, r.attempt) for t, r in run_campaign(campaign)[1]]
    again = [(taipei(t), r.contact_id, r.attempt) for t, r in run_campaign(campaign)[1]]
    assert first == again
    # Friday 20:50: A..D and F start a second apart, two at a time; retries wait for Monday 09:00
    assert first[:2] == [("Fri 12-04 20:50:00", "A", 1), ("Fri 12-04 20:50:01", "B", 1)]
    assert ("Mon 12-07 09:00:00", "B", 2) in first
    assert ("Mon 12-07 09:10:02", "B", 3) in first  # busy again at 09:00:00 (a 2 s call): + 10 min


def test_voicemail_drop_ends_the_contact(campaign):
    spec = campaign.spec.model_copy(update={"on_voicemail": "drop"})
    report, placed, _, _ = run_campaign(type(campaign)(spec, campaign.path, campaign.list_path, campaign.holidays,
                                                       campaign.dnc_path))
    d = [r for _, r in placed if r.contact_id == "D"]
    assert len(d) == 1 and d[0].voicemail_drop
    assert {c["id"]: c["final"] for c in report.contacts}["D"] == "voicemail"


def test_a_crashing_dialer_is_a_failed_attempt_retried(campaign):
    import asyncio

    clock = VirtualClock()
    calls = []

    def script(req):
        calls.append(req.contact_id)
        if req.contact_id == "A" and req.attempt == 1:
            raise RuntimeError("SIP stack fell over")
        return DialResult("answered"), 30.0

    run = CampaignRun(campaign, read_contacts(campaign.list_path)[:1], FakeDialer(clock, script), clock, epoch=FRI_2050)
    report = asyncio.run(drive(clock, run.run()))
    assert calls == ["A", "A"] and report.contacts[0]["final"] == "reached"


def test_calling_calendar_edges(campaign):
    cal = CallingCalendar(campaign.spec.windows, campaign.holidays)

    def at(day, hh, mm, ss=0):
        return dt.datetime(2026, 12, day, hh, mm, ss, tzinfo=TPE).timestamp()

    assert cal.is_open(at(4, 9, 0)) and cal.is_open(at(4, 20, 59, 59)) and not cal.is_open(at(4, 21, 0))
    assert not cal.is_open(at(4, 8, 59, 59))
    # Friday night -> the Saturday is a holiday, Sunday has no window: Monday 09:00
    assert cal.next_open(at(4, 21, 30)) == at(7, 9, 0)
    assert cal.next_open(at(7, 10, 0)) == at(7, 10, 0)
    # the next Saturday is an ordinary one: 10:00-12:00
    assert cal.next_open(at(11, 21, 0)) == at(12, 10, 0) and cal.closes_at(at(12, 11, 0)) == at(12, 12, 0)
    # the windows are Taipei wall time whatever the machine's zone: 09:00 Taipei is 01:00 UTC
    assert dt.datetime.fromtimestamp(cal.next_open(at(4, 21, 30)), dt.UTC).hour == 1


def test_no_window_ever_closes_the_contacts(campaign, tmp_path):
    import asyncio

    every_monday = {dt.date(2026, 12, 7) + dt.timedelta(days=7 * k) for k in range(60)}
    # every calling day for the next 60 weeks a holiday (more than next_open looks ahead)
    every_weekday = {d + dt.timedelta(days=i) for d in every_monday for i in range(6)} | \
        {dt.date(2026, 12, 4), dt.date(2026, 12, 5)}
    closed = type(campaign)(campaign.spec, campaign.path, campaign.list_path, frozenset(every_weekday),
                            campaign.dnc_path)
    clock = VirtualClock()
    dialer = FakeDialer(clock, by_number(OUTCOMES))
    run = CampaignRun(closed, read_contacts(campaign.list_path), dialer, clock, epoch=FRI_2050)
    report = asyncio.run(drive(clock, run.run()))
    assert dialer.placed == [] and report.totals["pending"] == 0
    # Friday 20:50 is inside a window but a holiday: nothing is ever dialled
    assert {c["final"] for c in report.contacts} == {"out_of_window"}


def test_no_calls_in_a_year_the_holiday_file_does_not_cover(campaign, log_stream):
    """The shipped 2026 list (checked against the DGPA calendar) says nothing about
    2027: its New Year's Day is not called, nor any 2027 day, and that is said once."""
    from ivr.outbound import read_holidays

    from .conftest import CAMPAIGNS

    shipped = read_holidays(CAMPAIGNS / "holidays-tw-2026.txt")
    assert len(shipped) == 25 and {d.year for d in shipped} == {2026}
    cal = CallingCalendar(campaign.spec.windows, shipped)
    thu = dt.datetime(2026, 12, 31, 10, 0, tzinfo=TPE).timestamp()
    assert cal.is_open(thu) and not cal.is_open(thu + 86400)  # Fri 1 Jan 2027
    assert cal.next_open(dt.datetime(2026, 12, 31, 21, 30, tzinfo=TPE).timestamp()) is None
    assert not cal.is_open(dt.datetime(2027, 1, 4, 10, 0, tzinfo=TPE).timestamp())  # an ordinary Monday too
    lines = [ln for ln in log_stream.getvalue().splitlines() if "holiday file" in ln]
    assert len(lines) == 1 and "no dates for 2027 (it covers 2026)" in lines[0]
    # the DGPA's 2026 days off: the 補假 of a Saturday/Sunday holiday is a day off, the weekend after is not
    assert not cal.is_open(dt.datetime(2026, 2, 20, 10, 0, tzinfo=TPE).timestamp())   # 除夕前一日's observed day
    assert not cal.is_open(dt.datetime(2026, 10, 26, 10, 0, tzinfo=TPE).timestamp())  # 光復節 observed
    assert cal.is_open(dt.datetime(2026, 10, 27, 10, 0, tzinfo=TPE).timestamp())
    # with the 2027 days added the year is open again; no holiday file at all: every year
    with_2027 = CallingCalendar(campaign.spec.windows, shipped | {dt.date(2027, 1, 1)})
    monday = dt.datetime(2027, 1, 4, 10, 0, tzinfo=TPE).timestamp()
    assert not with_2027.is_open(thu + 86400) and with_2027.is_open(monday)
    assert CallingCalendar(campaign.spec.windows).is_open(thu + 86400)
