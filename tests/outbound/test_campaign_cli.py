"""``ivr campaign validate|run``."""
from __future__ import annotations

import json

from ivr.cli import main

from .conftest import CAMPAIGNS


def test_validate_shipped_and_broken(campaign_dir, capsys):
    assert main(["campaign", "validate", str(CAMPAIGNS / "payment_reminder.yaml"),
                 str(CAMPAIGNS / "fraud_alert.yaml")]) == 0
    out = capsys.readouterr().out
    assert "ok (4 contacts, 1 on the do-not-call list, flow payment_reminder)" in out
    bad = campaign_dir / "payment_reminder.yaml"
    bad.write_text(bad.read_text().replace('from: "09:00"', 'from: "25:00"'), encoding="utf-8")
    assert main(["campaign", "validate", str(bad)]) == 1
    line = capsys.readouterr().out.strip()
    assert line == f"{bad}:9: windows.0.from: time must be HH:MM, got '25:00'"


def test_run_rehearses_on_the_virtual_clock(tmp_path, capsys):
    report = tmp_path / "r.json"
    argv = ["campaign", "run", str(CAMPAIGNS / "payment_reminder.yaml"), "--dialer", "sim",
            "--start", "2026-12-04T20:30", "--seed", "3", "--report", str(report)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["totals"]["contacts"] == 4 and doc["totals"]["dnc"] == 1 and doc["totals"]["pending"] == 0
    assert "0955000111" not in report.read_text() and "0912345678" not in report.read_text()
    assert main(argv) == 0 and capsys.readouterr().out == first  # the same seed, the same campaign


def test_run_with_sip_without_a_trunk_is_one_line(capsys):
    code = main(["campaign", "run", str(CAMPAIGNS / "payment_reminder.yaml"), "--dialer", "sip"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "needs a trunk" in err and "payment_reminder.yaml" in err
