"""JUnit XML and HTML from run results (built by hand here; the end-to-end
test checks them on a real run)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ivr.asr.scoring import diff_ops
from ivr.qa import RunSummary, ScenarioResult, TurnResult, cer, parse_scenario, render_html, write_junit
from ivr.qa.expect import check_turn
from ivr.qa.scenario import TurnExpect

SC = "name: {name}\nturns:\n  - dtmf: '1'\n  - audio: a.wav\n    expect: {{reference: 我要查餘額}}\n"


def _summary(tmp_path: Path) -> RunSummary:
    from ivr.audio.wav import wav_bytes

    wav = wav_bytes(np.zeros(800, np.int16), 8000)
    results = []
    for name, status in [("ok_one", "passed"), ("bad_one", "failed"), ("skip_one", "skipped"), ("err_one", "error")]:
        sc = parse_scenario(SC.format(name=name), tmp_path / f"{name}.yaml")
        r = ScenarioResult(scenario=sc, status=status, outcome="handed_off", handoff_queue="T1",
                           handoff_context={"intent": "check_balance", "slots": {"id_number": "A123456789"}})
        r.turns = [TurnResult(0, "dtmf", 3, "keys 1", dtmf="1", prompts=["menu.menu.prompt"], latency_ms=120.0),
                   TurnResult(1, "audio", 4, "audio a.wav", caller_wav=wav, transcript="我要查詢餘額",
                              expected_text="我要查餘額", intent="check_balance", prompts=["verify.ask_birth.prompt"])]
        if status == "failed":
            r.turns[1].failures.append("intent: expected reset_password, got check_balance")
            r.failures.append("outcome: expected self_served, got handed_off")
        r.message = {"skipped": "needs ../shared", "error": "flows/menu.yaml:3: broken"}.get(status, "")
        results.append(r)
    return RunSummary(results, 1.5)


def test_junit_counts_and_messages(tmp_path: Path) -> None:
    path = write_junit(_summary(tmp_path), tmp_path / "out" / "junit.xml")
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("4", "1", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    bad = cases["bad_one"].find("failure")
    assert bad.get("message").startswith("outcome: expected self_served, got handed_off")
    assert "turn 2 (line 4): intent: expected reset_password" in bad.text
    assert cases["skip_one"].find("skipped").get("message") == "needs ../shared"
    assert cases["err_one"].find("error") is not None
    assert cases["ok_one"].find("failure") is None and cases["ok_one"].get("file").endswith("ok_one.yaml")


def test_html_is_self_contained_with_audio_and_diff(tmp_path: Path) -> None:
    html = render_html(_summary(tmp_path), tmp_path)
    assert html.count("data:audio/wav;base64,") == 4  # one caller clip per scenario with turns
    assert "<ins>詢</ins>" in html  # heard but not in the reference
    assert "1 passed" in html and "1 failed" in html
    assert "A123456789" not in html  # personal data is redacted in the report
    assert "<script src" not in html and "<link" not in html  # nothing fetched from elsewhere


def test_cer_diff_and_turn_checks() -> None:
    assert cer("我要查餘額", "我要查余额") == 0.0  # script differences are not errors
    assert abs(cer("我要查餘額", "我要查詢餘額") - 0.2) < 1e-9
    assert diff_ops("查餘額", "查詢餘額") == [("eq", "查"), ("ins", "詢"), ("eq", "餘額")]
    t = TurnResult(0, "audio", 5, "x", transcript="我要查信用卡", intent="report_card_loss", prompts=["a.b.c"])
    check_turn(t, TurnExpect(transcript_contains="餘額", reference="我要查餘額", cer_below=0.3,
                             intent="check_balance", prompt="verify.ask_birth.prompt", slots={"pin": "1234"}))
    joined = "\n".join(t.failures)
    assert "expected it to contain '餘額', heard '我要查信用卡'" in joined
    assert "CER 0.60 not below 0.30" in joined
    assert "intent: expected check_balance, got report_card_loss" in joined
    assert "prompt: expected verify.ask_birth.prompt, bot played a.b.c" in joined
    assert "slot pin: expected '1234', not filled" in joined
