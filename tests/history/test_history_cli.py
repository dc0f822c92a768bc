"""``ivr history export|erase``: the PDPA requests, one command each."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

from ivr.cli import main
from ivr.history import CallerHistory


def seed(db):
    h = CallerHistory.open(db)
    for cid, customer, caller in [("c1", 1, "0912345678"), ("c2", 1, "0912345678"), ("c3", 2, "0922333444")]:
        rec = SimpleNamespace(call_id=cid, transport="audiosocket", caller=caller, started_wall=time.time() - 3600,
                              duration=30.0, outcome="self_served", events=[])
        h.record_call(rec, {"slots": {"customer_id": customer}, "intent": "check_balance", "turns": []})
    h.close()


def test_export_then_erase(tmp_path, capsys):
    db = tmp_path / "history.sqlite3"
    seed(db)
    out = tmp_path / "export.json"
    assert main(["history", "export", "1", "--db", str(db), "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [c["call_id"] for c in doc["contacts"]] == ["c1", "c2"] and "0912345678" not in out.read_text()
    assert main(["history", "erase", "1", "--db", str(db), "--dry-run"]) == 0
    assert "would erase 2" in capsys.readouterr().out
    assert main(["history", "erase", "1", "--db", str(db)]) == 0
    assert "erased 2 contact(s) of customer 1" in capsys.readouterr().out
    assert main(["history", "export", "1", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["contacts"] == []
    assert main(["history", "show", "2", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["last_intent"] == "check_balance"  # customer 2 untouched


def test_bad_customer_id_is_one_line(tmp_path, capsys):
    assert main(["history", "erase", "1; DROP TABLE", "--db", str(tmp_path / "h.sqlite3")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "customer id" in err
