"""Campaign files: the shipped examples load; every mistake is one line naming file:line."""
from __future__ import annotations

import pytest

from ivr.outbound import CampaignError, check, load_campaign, read_contacts, read_holidays
from ivr.outbound.contacts import DoNotCall

from .conftest import CAMPAIGNS


def test_shipped_campaigns_load():
    c = load_campaign(CAMPAIGNS / "payment_reminder.yaml")
    assert c.spec.flow == "payment_reminder" and c.spec.pacing.max_in_flight == 4
    assert c.retry_seconds("busy") == 600 and c.retry_seconds("voicemail") == 4 * 3600
    import datetime as dt

    assert dt.date(2026, 10, 10) in c.holidays and dt.date(2026, 2, 17) in c.holidays
    contacts = read_contacts(c.list_path)
    assert [x.id for x in contacts][:2] == ["R0001", "R0002"] and contacts[0].variables["amount"] == "12345"
    assert DoNotCall(c.dnc_path).blocked("+886 955 000 111")
    assert load_campaign(CAMPAIGNS / "fraud_alert.yaml").spec.on_voicemail == "retry"


BASE = """campaign: c1
flow: payment_reminder
caller_id: "0227181234"
list: reminder_contacts.csv
windows:
  - {days: [mon], from: "09:00", to: "21:00"}
"""


@pytest.mark.parametrize("edit,line,message", [
    (("\"09:00\", to: \"21:00\"", "\"21:00\", to: \"09:00\""), 6, "window ends (09:00) before it starts (21:00)"),
    (("\"09:00\"", "\"9am\""), 6, "time must be HH:MM"),
    (("[mon]", "[monday]"), 6, "windows.0.days.0"),
    (("caller_id: \"0227181234\"", "caller_id: \"call me\""), 3, "caller_id"),
    (("list: reminder_contacts.csv", "list: nowhere.csv"), 4, "list: no such file"),
    (("flow: payment_reminder", "flow: payment_reminder\ncolour: red"), 3, "colour: Extra inputs are not permitted"),
    (("windows:", "pacing: {max_in_flight: 0}\nwindows:"), 5, "pacing.max_in_flight"),
    (("windows:", "retry_minutes: {busy: 0}\nwindows:"), 5, "retry_minutes.busy must be 1..20160"),
    (("windows:", "sip_transport: sctp\nwindows:"), 5, "sip_transport: Input should be 'udp' or 'tcp'"),
])
def test_campaign_errors_are_one_line_with_file_and_line(campaign_dir, edit, line, message):
    p = campaign_dir / "bad.yaml"
    p.write_text(BASE.replace(*edit), encoding="utf-8")
    campaign, problems = check(p)
    assert campaign is None and problems
    assert all("\n" not in x for x in problems)
    assert any(x.startswith(f"{p}:{line}: ") and message in x for x in problems), problems
    with pytest.raises(CampaignError) as e:
        load_campaign(p)
    assert "\n" not in str(e.value)


def test_sip_transport_key(campaign_dir):
    p = campaign_dir / "tcp.yaml"
    p.write_text(BASE + "sip_transport: tcp\n", encoding="utf-8")
    assert load_campaign(p).spec.sip_transport == "tcp"
    p.write_text(BASE, encoding="utf-8")
    assert load_campaign(p).spec.sip_transport == "udp"


def test_bad_holiday_line(campaign_dir):
    (campaign_dir / "holidays-tw-2026.txt").write_text("2026-01-01\n2026-13-01  # oops\n", encoding="utf-8")
    _, problems = check(campaign_dir / "payment_reminder.yaml")
    assert problems == [f"{campaign_dir / 'holidays-tw-2026.txt'}:2: not a date (YYYY-MM-DD): '2026-13-01'"]
    with pytest.raises(CampaignError):
        read_holidays(campaign_dir / "missing.txt")


@pytest.mark.parametrize("csv,line,message", [
    ("id,number\nA1,0912345678\nA2,12345\n", 3, "contact A2: not a Taiwanese phone number"),
    ("id,number\nA1,0912345678\nA1,0922333444\n", 3, "id 'A1' appears twice"),
    ("id,phone\nA1,0912345678\n", 1, "no 'number' column"),
    ("id,number,due date\nA1,0912345678,x\n", 1, "column name 'due date'"),
    ("id,number\nA1,0912345678,extra\n", 2, "3 fields, the header has 2"),
])
def test_bad_contact_list(tmp_path, csv, line, message):
    p = tmp_path / "list.csv"
    p.write_text(csv, encoding="utf-8")
    with pytest.raises(CampaignError) as e:
        read_contacts(p)
    assert str(e.value).startswith(f"{p}:{line}: ") and message in str(e.value)
    assert "12345" not in str(e.value).split(": ", 1)[1]  # a number itself is never echoed
