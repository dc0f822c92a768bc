"""Shipped flows validate; broken flows give exact file:line messages."""
from __future__ import annotations

import json
import subprocess

import jsonschema
import yaml

from ivr.backends.demo_bank import DemoBank
from ivr.dialog import flow_json_schema, validate_dir
from ivr.dialog.loader import SCHEMA_LINE, flow_files

from .support import FLOWS, HERE, ROOT

BROKEN = HERE / "broken_flows"
B = "tests/dialog/broken_flows"
EXPECTED = [
    f"{B}/nosteps.yaml:1: steps: Field required",
    f"{B}/notaflow.yaml:1: a flow file must be a mapping with 'flow' and 'steps'",
    f"{B}/policy.yaml:14: step 'menu': no nan-TW name for 'fx_rates' (add labels: {{fx_rates: {{nan-TW: ...}}}})",
    f"{B}/policy.yaml:14: step 'menu': no zh-TW name for 'fx_rates' (add labels: {{fx_rates: {{zh-TW: ...}}}})",
    f"{B}/policy.yaml:15: step 'menu': key 8 offers the next nan-TW choices (policy more_key); give the choice "
    "another key",
    f"{B}/policy.yaml:18: step 'menu': the nan-TW prompt lists 5 keys; nan-TW menus offer 3 at a time (the dialog "
    "adds them after the prompt)",
    f"{B}/policy.yaml:22: step 'agent_or_not': no key (dtmf) for complaint; nan-TW callers are asked for keys "
    "after 1 miss(es)",
    f"{B}/policy.yaml:22: step 'agent_or_not': no key (dtmf) for complaint; zh-TW callers are asked for keys "
    "after 2 miss(es)",
    f"{B}/refs.yaml:9: step 'ask': unknown step 'nowhere'",
    f"{B}/refs.yaml:10: step 'lost' is unreachable",
    f"{B}/refs.yaml:14: step 'jump' is unreachable",
    f"{B}/refs.yaml:15: step 'jump': link to unknown flow 'no_such_flow'",
    f"{B}/refs.yaml:16: step 'menu' is unreachable",
    f"{B}/refs.yaml:19: step 'menu': unknown intent 'check_balanse'",
    f"{B}/refs.yaml:21: audio file 'prompts/missing.wav' not found",
    f"{B}/schema.yaml:5: steps[0].type: Input should be 'intent', 'yes_no', 'digits', 'amount', 'date', 'taiwan_id' or 'free_text'",
    f"{B}/schema.yaml:9: steps[1]: a step needs exactly one of: say, collect, action, branch, link, call, handoff, end, return",
    f"{B}/schema.yaml:14: steps[2].branch[0].if: condition 'pin ==' is not valid: invalid syntax",
    f"{B}/schema.yaml:18: steps[3].handoff.queue: Input should be 'T1', 'T2', 'T3' or 'TQ'",
    f"{B}/schema.yaml:20: steps[3].colour: Extra inputs are not permitted",
    f"{B}/semantics.yaml:4: step 'greet': prompt 'say' has no nan-TW text",
    f"{B}/semantics.yaml:5: step 'greet' uses slot 'amount' before it is collected",
    f"{B}/semantics.yaml:15: step 'check' uses slot 'limit' that no step collects (declare it in 'inputs'?)",
    f"{B}/semantics.yaml:18: steps too_much -> again -> too_much loop without a collect",
    f"{B}/semantics.yaml:29: step 'fine': call to unknown flow 'missing_sub'",
    f"{B}/semantics.yaml:30: duplicate step id 'fine' (first at line 28)",
    f"{B}/semantics.yaml:31: step 'fine': unknown backend 'no_such_backend'",
    f"{B}/syntax.yaml:6: YAML syntax error: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)",
    f"{B}/zz_dup.yaml:1: duplicate flow id 'refs' (also in refs.yaml)",
]


def _ivr(*args: str) -> subprocess.CompletedProcess:
    """The real CLI entry point, in-process (a subprocess per call costs seconds of imports)."""
    import contextlib
    import io
    import os

    from ivr.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(cwd)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_shipped_flows_validate():
    from ivr.history import ACTIONS as HISTORY_ACTIONS
    from ivr.outbound.actions import ACTIONS as OUTBOUND_ACTIONS

    assert validate_dir(FLOWS, set(DemoBank.ACTIONS) | set(HISTORY_ACTIONS) | set(OUTBOUND_ACTIONS)) == []
    ids = {yaml.safe_load(p.read_text())["flow"] for p in flow_files(FLOWS)}
    assert {"main", "menu", "verify", "balance", "password_reset", "card_loss", "support", "complaint",
            "agent", "more"} <= ids


def test_flows_carry_schema_line_and_schema_is_current():
    for p in flow_files(FLOWS):
        assert p.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE, p
    on_disk = json.loads((FLOWS / "schema.json").read_text(encoding="utf-8"))
    assert on_disk == flow_json_schema(), "flows/schema.json is stale: run 'ivr validate flows --write-schema'"


def test_json_schema_accepts_shipped_and_rejects_broken():
    schema = flow_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    for p in flow_files(FLOWS):
        assert not list(validator.iter_errors(yaml.safe_load(p.read_text(encoding="utf-8")))), p
    bad = yaml.safe_load((BROKEN / "schema.yaml").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(bad))


def test_broken_flows_exact_messages(monkeypatch):
    monkeypatch.chdir(ROOT)
    got = [str(p) for p in validate_dir(B, set(DemoBank.ACTIONS))]
    assert got == EXPECTED


def test_cli_validate_exit_codes(tmp_path):
    ok = _ivr("validate", "flows")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _ivr("validate", B)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == EXPECTED
    missing = _ivr("validate", "no/such/dir")
    assert missing.returncode == 2 and "no/such/dir" in missing.stderr
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    unreadable = _ivr("validate", str(binary))
    assert unreadable.returncode == 2 and "cannot read" in unreadable.stderr


def test_cli_write_schema_and_graph(tmp_path):
    out = tmp_path / "schema.json"
    assert _ivr("validate", "flows", "--write-schema", str(out)).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8")) == flow_json_schema()
    mmd = tmp_path / "balance.mmd"
    r = _ivr("graph", "balance", "-o", str(mmd))
    assert r.returncode == 0, r.stderr
    text = mmd.read_text(encoding="utf-8")
    assert text.startswith("flowchart TD")
    assert "balance__lookup -->|ok| balance__tell" in text
    assert "handoff T1: balance_lookup_failed" in text
    assert _ivr("graph", "no_such_flow").returncode == 2
    by_file = _ivr("graph", "flows/balance.yaml")
    assert by_file.returncode == 0, by_file.stderr
    assert by_file.stdout.strip() == text.strip()
