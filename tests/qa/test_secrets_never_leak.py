"""Issue 13: nothing a caller keys or says at a ``secret: true`` step leaks.

Real calls through the real session, flows, dialog engine, demo bank, prompt
renderer (espeak, with a disk cache) and handoff queue (a SQLite file): (a) a
full PIN reset with the one-time code and a new PIN keyed twice, (b) a new PIN
that never matches its re-entry and ends at an agent, (c) a wrong PIN, said
aloud, that fails verification and ends at an agent. Then every artefact is
scanned for the secrets in every written form: call record database (rows and
raw file bytes), handoff queue database, the ticket API JSON an agent reads,
the JSON logs, the prompt cache (file names = hashes of the texts rendered),
the caller recordings' names, and the JUnit / HTML / JSON reports."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import shutil
import sqlite3
import textwrap
from pathlib import Path

import httpx
import pytest
import yaml

from ivr.handoff import HandoffService, create_app
from ivr.handoff.store.sqlite_store import SqliteStore
from ivr.log import setup_logging
from ivr.qa import RunOptions, record_to_scenario, run_scenarios, write_html, write_junit
from ivr.qa import runner as qa_runner
from ivr.qa.results import summary_dict

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs Debian espeak-ng for prompts")

NEW_PIN, OTHER_PINS, SPOKEN_PIN = "7319", ("2864", "2846", "5093", "5039", "6158", "6185"), "八二零六"
ID_KEYS = "10123456789"  # A123456789, the demo bank's Wang
ZH = "零一二三四五六七八九"

SCENARIOS = {
    "reset": """\
        name: secret_reset
        language: zh-TW
        caller: "0912345678"
        engine: text
        turns:
          - dtmf: "1"
          - dtmf: "2"
          - dtmf: "%(id)s"
          - dtmf: "{sms_code}"
          - dtmf: "%(pin)s"
          - dtmf: "%(pin)s"
            expect: {prompt: password_reset.done.say}
          - dtmf: "2"
        expect: {outcome: self_served, no_handoff: true}
        """,
    "mismatch": """\
        name: secret_reset_mismatch
        language: zh-TW
        caller: "0912345678"
        engine: text
        turns:
          - dtmf: "1"
          - dtmf: "2"
          - dtmf: "%(id)s"
          - dtmf: "{sms_code}"
          - dtmf: "%(o0)s"
          - dtmf: "%(o1)s"
          - dtmf: "%(o2)s"
          - dtmf: "%(o3)s"
          - dtmf: "%(o4)s"
          - dtmf: "%(o5)s"
        expect:
          outcome: handed_off
          handoff: {queue: T1, reason: new_pin_mismatch}
        """,
    "wrong_pin": """\
        name: secret_wrong_pin_spoken
        language: zh-TW
        caller: "0287654321"
        engine: text
        turns:
          - dtmf: "1"
          - dtmf: "3"
          - dtmf: "0740315#"
          - dtmf: "%(id)s"
          - text: "%(spoken)s"
            expect: {slots: {pin: "8206"}, prompt: [verify.id_pin_wrong.say, verify.ask_pin.prompt]}
          - dtmf: "%(o0)s"
          - dtmf: "%(o1)s"
        expect:
          outcome: handed_off
          handoff: {queue: T1, reason: pin_locked, context: {verified: false}}
        """,
}


def _forms(secret: str) -> list[str]:
    """How a digit secret could be written anywhere: digits, Chinese numerals (么 for one, 洞 for zero)."""
    zh = "".join(ZH[int(c)] for c in secret)
    return [secret, zh, zh.replace("一", "么"), zh.replace("零", "洞")]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    found = []
    for s in secrets:
        for form in _forms(s):
            # digits only count as the secret when they stand alone (not inside a timestamp or a hex id)
            rx = f"(?<![0-9]){re.escape(form)}(?![0-9])" if form.isascii() else re.escape(form)
            if re.search(rx, text):
                found.append(form)
    return found


def _db_text(path: Path) -> str:
    """Every row of every table, plus the raw bytes of the file and its WAL (deleted pages too)."""
    out = []
    with sqlite3.connect(path) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            out += [json.dumps(row, ensure_ascii=False, default=str) for row in db.execute(f"SELECT * FROM {table}")]
    for p in (path, Path(f"{path}-wal")):
        if p.exists():
            out.append(p.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def test_pin_reset_and_failed_pins_leave_no_secret_anywhere(tmp_path, monkeypatch):
    scen_dir = tmp_path / "scenarios"
    scen_dir.mkdir()
    values = {"id": ID_KEYS, "pin": NEW_PIN, "spoken": SPOKEN_PIN} | {f"o{i}": p for i, p in enumerate(OTHER_PINS)}
    for name, text in SCENARIOS.items():
        (scen_dir / f"{name}.yaml").write_text(textwrap.dedent(text) % values, encoding="utf-8")

    queue_db = tmp_path / "queue.sqlite3"
    monkeypatch.setattr(qa_runner, "_handoff_service", lambda clock: HandoffService(SqliteStore(queue_db), now=clock.now))
    codes: list[str] = []  # the one-time codes the demo bank sent are secrets too
    audits: dict[str, list[dict]] = {}  # each call's bank audit trail: it must hold no secret
    real_backends = qa_runner.Resources.backends

    def spying_backends(self, workdir):
        call, bank = real_backends(self, workdir)

        async def audited(name, args):  # the bank lives in the call's workdir: read its audit trail as it grows
            result = await call(name, args)
            audits[str(bank.path)] = bank.audit_rows()
            return result
        last_code = bank.last_code

        def recorded(customer_id):
            code = last_code(customer_id)
            if code:
                codes.append(code)
            return code
        bank.last_code = recorded
        return audited, bank
    monkeypatch.setattr(qa_runner.Resources, "backends", spying_backends)

    logs = io.StringIO()
    root = logging.getLogger("ivr")
    saved = (root.handlers[:], root.level, root.propagate)
    setup_logging("debug", json_logs=True, stream=logs)
    try:
        summary = run_scenarios([scen_dir], RunOptions(records_db=tmp_path / "calls.sqlite3",
                                                       prompts_cache=tmp_path / "tts", tts="espeak"))
    finally:
        root.handlers[:], root.level, root.propagate = saved
    assert [(r.scenario.name, r.status, r.all_failures) for r in summary.results] == [
        ("secret_reset_mismatch", "passed", []), ("secret_reset", "passed", []), ("secret_wrong_pin_spoken", "passed", [])]
    assert codes, "the one-time code was never sent"
    secrets = [NEW_PIN, *OTHER_PINS, "8206", *codes]

    artefacts: dict[str, str] = {"logs": logs.getvalue()}
    artefacts["call records"] = _db_text(tmp_path / "calls.sqlite3")
    audit = [row for rows in audits.values() for row in rows]
    assert ("id_pin", "pin_locked") in {(r["method"], r["result"]) for r in audit}
    assert ("sms_code", "ok") in {(r["method"], r["result"]) for r in audit}
    artefacts["bank audit trail"] = json.dumps(audit, ensure_ascii=False)
    artefacts["handoff queue"] = _db_text(queue_db)
    artefacts["recordings"] = "\n".join(p.name for p in tmp_path.glob("calls-audio/*"))
    write_junit(summary, tmp_path / "junit.xml")
    write_html(summary, tmp_path / "report.html")
    for name in ("junit.xml", "report.html"):
        artefacts[name] = (tmp_path / name).read_text(encoding="utf-8")
    artefacts["json report"] = json.dumps(summary_dict(summary), ensure_ascii=False)

    # the ticket API, as a logged-in agent reads it
    api = asyncio.run(_agent_reads_tickets(queue_db))
    artefacts["ticket API"] = json.dumps(api, ensure_ascii=False)
    contexts = {a["context"]["reason"]: a["context"] for a in api}
    # agents see how the caller was (not) verified and a masked ID, never the PIN or the code
    assert set(contexts) == {"new_pin_mismatch", "pin_locked"}
    for ctx in contexts.values():
        assert not {"pin", "new_pin", "reset_code"} & set(ctx["slots"]), ctx["slots"]
        assert ctx["slots"]["id_number"] == "A12****789"
        assert "A123456789" not in json.dumps(ctx, ensure_ascii=False)

    # the prompt cache: every file is a prompt the calls said (or a fixed prompt of the flows, prewarmed),
    # and none of those texts held a secret
    res = qa_runner.Resources(RunOptions(prompts_cache=tmp_path / "tts", tts="espeak"))
    rendered = {e["text"] for r in summary.results for e in _prompt_events(tmp_path, r.call_id) if e.get("text")}
    texts = rendered | set(res.prompt_texts())
    renderer = res.prompts()
    cached = {p.stem for p in (tmp_path / "tts").rglob("*.wav")}
    # a sentence made at call time is cached clause by clause (ivr.prompts.clauses): pieces of prompts said
    from ivr.prompts.clauses import clauses

    said = {c for t in texts for c in (t, *clauses(t))}
    assert cached and cached <= {renderer._key(t, rate) for t in said for rate in (8000, 16000)}
    artefacts["prompts said and cached"] = "\n".join(sorted(texts))
    artefacts["prompt cache names"] = "\n".join(sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "tts").rglob("*")))

    # `ivr record` turns a stored call into a scenario: the secret turns become blanks for the tester to fill
    reset = next(r for r in summary.results if r.scenario.name == "secret_reset")
    recorded = record_to_scenario(reset.call_id, tmp_path / "calls.sqlite3", tmp_path / "recorded" / "reset.yaml")
    artefacts["recorded scenario"] = recorded.read_text(encoding="utf-8")
    # (keys_3 is the Taiwan ID: the record store redacts long numbers too)
    assert yaml.safe_load(artefacts["recorded scenario"])["vars"] == {f"keys_{i}": "" for i in (3, 4, 5, 6)}

    leaks = {name: _leaks(text, secrets) for name, text in artefacts.items()}
    assert {k: v for k, v in leaks.items() if v} == {}
    # and the scan can see a secret: the scenario files themselves hold them
    assert _leaks((scen_dir / "reset.yaml").read_text(encoding="utf-8"), [NEW_PIN]) == [NEW_PIN]


async def _agent_reads_tickets(queue_db: Path) -> list[dict]:
    svc = HandoffService(SqliteStore(queue_db))
    await svc.add_agent("agent1", "Agent", "correct horse battery", tier="T1")
    with sqlite3.connect(queue_db) as db:
        tickets = [row[0] for row in db.execute("SELECT id FROM tickets")]
    assert len(tickets) == 2
    app = create_app(svc, run_ticker=False)
    api = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as c:
        r = await c.post("/api/login", json={"agent_id": "agent1", "password": "correct horse battery"})
        assert r.status_code == 200, r.text
        for ticket_id in tickets:
            resp = await c.get(f"/api/tickets/{ticket_id}")
            assert resp.status_code == 200, resp.text
            api.append(resp.json())
    return api


def _prompt_events(tmp_path: Path, call_id: str) -> list[dict]:
    with sqlite3.connect(tmp_path / "calls.sqlite3") as db:
        rows = db.execute("SELECT data FROM events WHERE call_id=? AND kind='prompt'", (call_id,)).fetchall()
    return [json.loads(d) for (d,) in rows]
