"""Campaign state kept in SQLite: a paused run resumes where it stopped (no
contact called again beyond its attempts, none lost), the report's figures,
and ``ivr campaign start|pause|status|report``."""
from __future__ import annotations

import asyncio
import json

from ivr.cli import main
from ivr.clock import VirtualClock
from ivr.outbound import CampaignRun, FakeDialer
from ivr.outbound.dialer import DialRequest, DialResult
from ivr.outbound.simulate import drive
from ivr.outbound.state import CampaignState

from .conftest import CAMPAIGNS
from .test_progressive import MON_0900, campaign_file


def script(req: DialRequest) -> tuple[DialResult, float]:
    n = int(req.contact_id[1:])
    if n % 4 == 0:
        return DialResult("busy", call_id=f"{req.contact_id}-{req.attempt}"), 3.0
    if n % 4 == 1:
        return DialResult("answered", flow_result="promised_to_pay"), 60.0
    if n % 4 == 2:
        return DialResult("voicemail"), 20.0
    return DialResult("answered", transferred=True, abandoned=n % 8 == 3), 30.0


def test_a_paused_campaign_resumes_where_it_stopped(tmp_path):
    campaign, rows = campaign_file(tmp_path, 24, "")
    state = CampaignState(tmp_path / "campaigns.sqlite3")
    state.set_status(campaign.name, "running")

    def one_run(stop_after: int | None) -> tuple[CampaignRun, FakeDialer]:
        clock = VirtualClock()
        dialer = FakeDialer(clock, script)

        def attempt(_a: object) -> None:
            if stop_after is not None and len(dialer.placed) >= stop_after:
                state.set_status(campaign.name, "paused")
        run = CampaignRun(campaign, rows, dialer, clock, epoch=MON_0900, on_attempt=attempt,
                          on_progress=lambda p: state.save(campaign.name, p),
                          should_stop=lambda: state.status(campaign.name) == "paused")
        run.restore(state.load(campaign.name))
        asyncio.run(drive(clock, run.run()))
        return run, dialer

    first, d1 = one_run(stop_after=10)
    assert first.stopped and 10 <= len(d1.placed) < 24
    state.set_status(campaign.name, "running")
    second, d2 = one_run(stop_after=None)
    assert not second.stopped and second.report().totals["pending"] == 0
    called = [r.contact_id for _, r in d1.placed + d2.placed]
    assert sorted(set(called)) == sorted(c.id for c in rows) and len(called) == len(set(called)) == 24  # max 1 each

    doc = state.report(campaign.name, len(rows))
    t = doc["totals"]
    assert (t["attempts"], t["contacted"], t["promised_to_pay"], t["voicemails"]) == (24, 12, 6, 6)
    assert (t["answered"], t["abandoned"], t["abandoned_rate"]) == (12, 3, 0.25)
    assert t["right_party"] == 12 and t["dnc_skipped"] == 0
    assert all(c["number"].startswith("*******") for c in doc["contacts"])
    state.close()


def test_start_status_report_pause_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "campaigns.sqlite3")
    argv = ["campaign", "start", str(CAMPAIGNS / "payment_reminder.yaml"), "--dialer", "sim", "--start",
            "2026-12-04T20:30", "--seed", "3", "--state", db]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "campaign reminders_2026_12: 4 contacts" in out
    assert main(["campaign", "status", "--state", db]) == 0
    status = capsys.readouterr().out
    assert status.startswith("reminders_2026_12: done;") and "1 DNC skipped" in status
    assert main(["campaign", "report", "reminders_2026_12", "--state", db, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "done" and doc["totals"]["contacts"] == 4 and doc["totals"]["dnc_skipped"] == 1
    assert main(["campaign", "report", "reminders_2026_12", "--state", db]) == 0
    text = capsys.readouterr().out
    for number in ("0912345678", "0922333444", "0933555777", "0955000111"):
        assert number not in text and number not in json.dumps(doc)
    assert "right party" in text and "DNC skipped 1" in text
    assert main(argv) == 0  # done: starting again dials nobody
    assert ", 0 dials," in capsys.readouterr().out
    assert main(["campaign", "pause", "reminders_2026_12", "--state", db]) == 0
    capsys.readouterr()
    assert main(["campaign", "status", "reminders_2026_12", "--state", db]) == 0
    assert capsys.readouterr().out.startswith("reminders_2026_12: paused;")


def test_unknown_campaign_is_one_line(tmp_path, capsys):
    db = str(tmp_path / "campaigns.sqlite3")
    for cmd in (["pause", "nope"], ["report", "nope"], ["status", "nope"]):
        assert main(["campaign", *cmd, "--state", db]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "no campaign 'nope'" in err
