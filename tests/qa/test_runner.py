"""The runner on the real call session: a small flow of our own, a broken copy
of the shipped flows, and a stored call turned back into a scenario."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.qa import RunOptions, load_scenario, load_scenarios, record_to_scenario, run_scenarios
from ivr.qa.record import RecordError

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def test_mini_flow_scenarios_pass_and_measure() -> None:
    summary = run_scenarios([DATA / "mini.yaml", DATA / "mini_misc.yaml"], RunOptions(flows_dir=DATA / "flows"))
    by = {r.scenario.name: r for r in summary.results}
    assert by["mini_dtmf_balance"].status == "passed", by["mini_dtmf_balance"].all_failures
    misc = by["mini_misc"]
    assert misc.status == "passed", misc.all_failures or misc.message
    assert misc.outcome == "handed_off" and misc.handoff_queue == "T1"
    silence, keys = misc.turns
    assert silence.no_input and silence.prompts == ["main.menu.no_input"]
    assert keys.barged_in and keys.dtmf == "9"  # in-band tones, detected by the real DTMF detector
    assert keys.latency_ms is not None and keys.latency_ms >= 0
    assert misc.call_seconds > 7  # the silence really passed on the (virtual) clock


def test_wrong_expectation_fails_with_readable_message(tmp_path: Path) -> None:
    text = (DATA / "mini.yaml").read_text().replace("intent: check_balance", "intent: talk_to_agent")
    (tmp_path / "wrong.yaml").write_text(text)
    (r,) = run_scenarios([tmp_path / "wrong.yaml"], RunOptions(flows_dir=DATA / "flows")).results
    assert r.status == "failed"
    assert r.all_failures == ["turn 1 (line 6): intent: expected talk_to_agent, got check_balance"]


def test_broken_flow_fails_the_right_scenarios(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    menu = flows / "menu.yaml"
    text = menu.read_text(encoding="utf-8")
    # keys 1 and 5 swapped: still a valid flow (every service keyed), but key 1 now files a complaint
    broken = re.sub(r'"5": complaint', '"5": check_balance', re.sub(r'"1": check_balance', '"1": complaint', text, count=1),
                    count=1)
    assert broken != text
    menu.write_text(broken, encoding="utf-8")
    scenarios = [s for s in load_scenarios([ROOT / "audio_fixtures"])
                 if s.name in ("zh_dtmf_balance", "zh_dtmf_card_loss")]
    summary = run_scenarios(scenarios, RunOptions(flows_dir=flows))
    by = {r.scenario.name: r for r in summary.results}
    assert by["zh_dtmf_card_loss"].status == "passed", by["zh_dtmf_card_loss"].all_failures
    bad = by["zh_dtmf_balance"]
    assert bad.status == "failed"
    msgs = bad.all_failures
    assert "turn 2 (line 11): intent: expected check_balance, got complaint" in msgs, msgs
    assert any(m.startswith("turn 2 (line 11): prompt: expected verify.ask_birth.prompt, bot played complaint.ask_issue.prompt")
               for m in msgs), msgs
    assert "outcome: expected self_served, got handed_off" in msgs


def test_unknown_flow_is_an_error_result(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("name: s\nflow: nowhere\nengine: text\nturns: [{dtmf: '1'}]\n")
    (r,) = run_scenarios([tmp_path / "s.yaml"], RunOptions(flows_dir=DATA / "flows")).results
    assert r.status == "error" and "no flow 'nowhere'" in r.message


def test_missing_shared_audio_skips_with_reason(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "name: s\nrequires: [../shared/data/taiwanese-real/none.wav]\nturns: [{audio: ../shared/data/x.wav}]\n")
    (r,) = run_scenarios([tmp_path / "s.yaml"], RunOptions(flows_dir=DATA / "flows")).results
    assert r.status == "skipped" and "needs ../shared/data/taiwanese-real/none.wav" in r.message


def test_stored_call_becomes_a_scenario_that_replays(tmp_path: Path) -> None:
    db = tmp_path / "calls.db"
    opts = RunOptions(flows_dir=DATA / "flows", records_db=db)
    (orig,) = run_scenarios([DATA / "mini_misc.yaml"], opts).results
    assert orig.status == "passed" and orig.call_id
    out = record_to_scenario(orig.call_id, db, tmp_path / "recorded" / "replay.yaml")
    sc = load_scenario(out)
    assert [t.kind for t in sc.turns] == ["silence", "dtmf"]
    assert sc.turns[1].dtmf == "9" and sc.expect.outcome == "handed_off" and sc.expect.handoff.queue == "T1"
    assert sc.turns[1].expect.prompt == "main.agent.handoff"
    (again,) = run_scenarios([out], RunOptions(flows_dir=DATA / "flows")).results
    assert again.status == "passed", again.all_failures
    with pytest.raises(RecordError, match="no call 'nope'"):
        record_to_scenario("nope", db, tmp_path / "x.yaml")
    with pytest.raises(RecordError, match="no such call record database"):
        record_to_scenario("nope", tmp_path / "missing.db", tmp_path / "x.yaml")


def _ivr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ivr", "test", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=env)


def test_cli_exit_codes(tmp_path: Path) -> None:
    flows = ["--flows", str(DATA / "flows")]
    ok = _ivr(str(DATA / "mini.yaml"), *flows, "--junit", str(tmp_path / "j.xml"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 passed" in ok.stdout and (tmp_path / "j.xml").is_file()

    (tmp_path / "wrong.yaml").write_text((DATA / "mini.yaml").read_text().replace("check_balance", "complaint"))
    failed = _ivr(str(tmp_path / "wrong.yaml"), *flows)
    assert failed.returncode == 1 and "intent: expected complaint, got check_balance" in failed.stdout

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "b.yaml").write_text("name: b\nturns:\n  - dtmf: '1'\n    colour: red\n")
    bad = _ivr(str(tmp_path / "bad"), *flows)
    assert bad.returncode == 2
    assert f"{tmp_path / 'bad' / 'b.yaml'}:4: turns.0: unknown field 'colour'" in bad.stderr

    (tmp_path / "noaudio.yaml").write_text("name: na\nengine: text\nturns:\n  - audio: missing.wav\n")
    na = _ivr(str(tmp_path / "noaudio.yaml"), *flows)
    assert na.returncode == 2 and "missing.wav" in na.stdout


def test_cli_warns_when_the_thread_count_is_overridden() -> None:
    """Whisper's int8 results differ with one thread: a QA run under OMP_NUM_THREADS says so."""
    import os

    flows = ["--flows", str(DATA / "flows")]
    base = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    plain = _ivr(str(DATA / "mini.yaml"), *flows, env=base)
    assert plain.returncode == 0 and "OMP_NUM_THREADS" not in plain.stdout
    one = _ivr(str(DATA / "mini.yaml"), *flows, env={**base, "OMP_NUM_THREADS": "1"})
    assert one.returncode == 0 and "OMP_NUM_THREADS=1 is set" in one.stdout
