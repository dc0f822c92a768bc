"""Scenario files: what loads, and the file:line errors for what does not."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.errors import IvrError
from ivr.qa import ScenarioError, find_scenario_files, load_scenario, load_scenarios, parse_scenario

FIXTURES = Path(__file__).resolve().parents[2] / "audio_fixtures"

GOOD = """\
name: good_one
description: a caller
language: nan-TW
flow: main
tags: [balance]
turns:
  - audio: a.wav
    segment: [0.5, 2.0]
    expect: {transcript_contains: 餘額, reference: 我要查餘額, cer_below: 0.4, intent: check_balance}
  - dtmf: "0740315#"
    inband: true
  - text: 轉接專人
    barge_in_ms: 800
  - silence_ms: 7000
    expect: {no_input: true, prompt: menu.menu.no_input}
  - dtmf: "{sms_code}"
  - hangup: true
expect:
  outcome: handed_off
  handoff: {queue: T2, reason: technical_support, context: {verified: true, slots: {issue: "*"}}}
"""


def test_good_scenario_loads_with_turn_lines(tmp_path: Path) -> None:
    sc = parse_scenario(GOOD, tmp_path / "good.yaml")
    assert sc.name == "good_one" and sc.language == "nan-TW"
    assert [t.kind for t in sc.turns] == ["audio", "dtmf", "text", "silence", "dtmf", "hangup"]
    assert [t.line for t in sc.turns] == [7, 10, 12, 14, 16, 17]
    assert sc.turns[0].segment == (0.5, 2.0)
    assert sc.expect.handoff.queue == "T2"
    assert sc.resolve("a.wav") == tmp_path / "a.wav"


@pytest.mark.parametrize("text, line, words", [
    ("name: x\nturns:\n  - dtmf: '12'\n    expect:\n      intent: a\n      bogus: 1\n", 6, "unknown field 'bogus'"),
    ("name: x\nturns:\n  - dtmf: '1x'\n", 3, "dtmf must be keys"),
    ("name: x\nturns:\n  - audio: a.wav\n    text: hi\n", 3, "exactly one of audio, dtmf, text, silence_ms, hangup (got audio, text)"),
    ("name: x\nturns:\n  - {}\n", 3, "exactly one of"),
    ("name: x\nturns: [\n", 3, "YAML syntax"),
    ("name: x\nlanguage: en-US\nturns:\n  - hangup: true\n", 2, "language must be one of zh-TW, nan-TW"),
    ("name: x\n", 1, "missing required field 'turns'"),
    ("name: x\nturns: []\n", 2, "at least 1"),
    ("name: x\nturns:\n  - dtmf: '1'\n  - silence_ms: 10\n    expect: {cer_below: 0.3}\n", 5, "cer_below needs a reference"),
    ("name: x\nturns:\n  - dtmf: '1'\n    segment: [1, 2]\n", 3, "segment only applies to an audio turn"),
    ("name: x\nturns:\n  - audio: a.wav\n    segment: [2, 1]\n", 3, "0 <= start < end"),
    ("name: x\nturns:\n  - hangup: true\n    expect: {intent: a}\n", 3, "hangup turn cannot have expectations"),
    ("name: x\nturns:\n  - dtmf: '1'\nexpect:\n  handoff: {queue: T9}\n", 5, "T1"),
    ("name: x\nturns:\n  - dtmf: '1'\nexpect:\n  outcome: transferred\n", 5, "self_served"),
    ("name: bad name!\nturns:\n  - dtmf: '1'\n", 1, "pattern"),
    ("- just\n- a list\n", 1, "a scenario file is a mapping"),
    ("name: x\nturns:\n  - dtmf: '{pin}#'\n", 3, "turn 1: dtmf uses {pin} but vars has no pin"),
    ("name: x\nvars: {pin: 12ab}\nturns:\n  - dtmf: '{pin}'\n", 2, "variable pin must be DTMF keys"),
    ("", 1, "empty scenario file"),
])
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "bad.yaml"
    with pytest.raises(ScenarioError) as ei:
        parse_scenario(text, path)
    msg = str(ei.value)
    assert isinstance(ei.value, IvrError)
    assert msg.startswith(f"{path}:{line}: "), msg
    assert words in msg, msg
    assert "\n" not in msg


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="no such file or directory"):
        load_scenarios([tmp_path / "nowhere"])
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "bin.yaml")


def test_directory_discovery_filter_and_duplicates(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.yaml").write_text("name: one\ntags: [card_loss]\nturns: [{dtmf: '1'}]\n")
    (tmp_path / "two.yml").write_text("name: two\nturns: [{dtmf: '1'}]\n")
    (tmp_path / "_phrases.yaml").write_text("phrases: []\n")  # generator input, not a scenario
    files = find_scenario_files([tmp_path])
    assert [f.name for f in files] == ["two.yml", "one.yaml"] or sorted(f.name for f in files) == ["one.yaml", "two.yml"]
    assert len(load_scenarios([tmp_path])) == 2
    assert [s.name for s in load_scenarios([tmp_path], "card")] == ["one"]
    (tmp_path / "a" / "dup.yaml").write_text("name: two\nturns: [{dtmf: '1'}]\n")
    with pytest.raises(ScenarioError, match="scenario name 'two' also used in"):
        load_scenarios([tmp_path])


def test_shipped_fixture_set_covers_the_brief() -> None:
    scenarios = load_scenarios([FIXTURES])
    assert len(scenarios) >= 40
    tags = {t for s in scenarios for t in s.tags}
    for needed in ("balance", "password_reset", "card_loss", "support", "complaint", "agent", "language",
                   "dtmf", "noise", "barge_in", "no_input", "wrong_answer", "retries", "handoff", "inband",
                   "zh", "nan", "wideband", "taiwanese_real"):
        assert needed in tags, needed
    # every audio file a scenario uses exists, or lives in ../shared (skipped when absent)
    for s in scenarios:
        for t in s.turns:
            if t.audio and "shared" not in Path(t.audio).parts:
                assert s.resolve(t.audio).is_file(), f"{s.path}:{t.line}: {t.audio}"
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 20e6
