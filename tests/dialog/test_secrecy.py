"""The secrecy rule in the flow language: a slot is secret iff its collect step
says ``secret: true``; a secret is never spoken (validator at file:line, and
the renderer at run time); a new PIN is confirmed by entering it twice."""
from __future__ import annotations

import textwrap

import pytest

from ivr.dialog import Dialog, load_flows, validate_dir
from ivr.dialog.render import Renderer
from ivr.errors import FlowError
from ivr.frames import CallStarted, Say, UserInput

from .support import listen, said, says, transfer

PIN_FLOW = """\
    flow: main
    languages: [zh-TW]
    steps:
      - id: ask_pin
        collect: code
        secret: true
        type: digits
        length: 4
        prompt: {zh-TW: 請輸入密碼。}
        confirm_by_reentry:
          prompt: {zh-TW: 請再輸入一次。}
        retries: 1
        on_exhausted: {queue: T1, reason: code_mismatch}
      - id: done
        say: {zh-TW: 好的。}
      - id: bye
        end: true
    """


def _write(d, name, text):
    (d / name).write_text(textwrap.dedent(text), encoding="utf-8")


def test_prompt_naming_a_secret_slot_is_a_file_line_error(tmp_path):
    _write(tmp_path, "main.yaml", """\
        flow: main
        languages: [zh-TW]
        steps:
          - id: ask_pin
            collect: pin
            secret: true
            type: digits
            prompt: {zh-TW: 請輸入密碼。}
            confirm:
              zh-TW: 您輸入的是{pin:digits}，對嗎？
          - id: tell
            say:
              zh-TW: 您的密碼是{pin}。
          - id: check
            action: verify_pin
            args: {pin: "{pin}"}
          - id: other
            link: sub
        """)
    _write(tmp_path, "sub.yaml", """\
        flow: sub
        languages: [zh-TW]
        inputs: [pin]
        steps:
          - id: again
            say: {zh-TW: "密碼 {pin} 已更新"}
        """)
    where = str(tmp_path)
    problems = [str(p) for p in validate_dir(tmp_path)]
    assert problems == [
        f"{where}/main.yaml:9: step 'ask_pin': a secret step cannot use 'confirm' (it reads the value back); "
        "use confirm_by_reentry",
        f"{where}/main.yaml:10: step 'ask_pin': a prompt says secret slot 'pin' (secrets are never spoken; "
        "confirm with confirm_by_reentry)",
        f"{where}/main.yaml:13: step 'tell': a prompt says secret slot 'pin' (secrets are never spoken; "
        "confirm with confirm_by_reentry)",
        # a secret slot of another flow is just as secret; backend args may carry it
        f"{where}/sub.yaml:6: step 'again': a prompt says secret slot 'pin' (secrets are never spoken; "
        "confirm with confirm_by_reentry)",
    ]
    with pytest.raises(FlowError, match=r"main.yaml:9: step 'ask_pin': a secret step cannot use 'confirm'"):
        load_flows(tmp_path)
    from .test_validate import _ivr

    r = _ivr("validate", str(tmp_path), "--no-backends")
    assert r.returncode == 1 and f"{where}/main.yaml:13: step 'tell': a prompt says secret slot 'pin'" in r.stdout


def test_a_slot_is_secret_by_its_step_not_by_its_name(tmp_path):
    # 'pin_hint' sounds secret but no step says so; 'code' says nothing about itself but is secret
    _write(tmp_path, "main.yaml", """\
        flow: main
        languages: [zh-TW]
        steps:
          - id: ask_hint
            collect: pin_hint
            type: digits
            prompt: {zh-TW: 請輸入提示。}
          - id: tell
            say: {zh-TW: "提示是 {pin_hint}"}
        """)
    assert validate_dir(tmp_path) == []


def test_renderer_never_renders_a_hidden_slot():
    r = Renderer()
    env = {"pin": "4321", "amount": 100}
    assert r.render("密碼{pin:digits}，{pin}，金額{amount}", env, "zh-TW", hidden=["pin"]) == "密碼，，金額100"
    assert r.render("{pin}", env, "zh-TW") == "4321"  # not secret, not hidden


def test_engine_hides_a_secret_from_prompts_even_if_a_template_slips_through(tmp_path, fake_nlu):
    _write(tmp_path, "main.yaml", PIN_FLOW)
    flows = load_flows(tmp_path)
    # a template naming the secret, as if the validator had been bypassed
    step = flows["main"].steps[1]
    bad = step.model_copy(update={"say": step.say.model_copy(update={"zh_TW": "密碼{code}已設定"})})
    flows["main"].steps[1] = bad
    d = Dialog(flows, fake_nlu, start="main")
    st, out = d.step(None, CallStarted("c1"))
    assert listen(out).secret and listen(out).slot == "code"
    st, out = d.step(st, UserInput(dtmf="4321"))
    assert listen(out).secret and said(out, "請再輸入一次") and not any("4321" in t for t in says(out))
    st, out = d.step(st, UserInput(dtmf="4321"))
    assert said(out, "密碼已設定") and not any("4321" in a.text for a in out if isinstance(a, Say))
    assert st.slots["code"] == "4321" and st.secret_slots == ["code"]
    assert "code" not in st.context()["slots"]
    assert [t["dtmf"] for t in st.turns] == ["****", "****"]


def test_reentry_mismatch_retries_then_agent_without_the_secret(tmp_path, fake_nlu):
    _write(tmp_path, "main.yaml", PIN_FLOW)
    d = Dialog(load_flows(tmp_path), fake_nlu, start="main")
    st, out = d.step(None, CallStarted("c1"))
    st, out = d.step(st, UserInput(dtmf="1357"))
    st, out = d.step(st, UserInput(dtmf="1358"))  # mismatch: start over (a retry)
    assert said(out, "兩次輸入的不一樣") and said(out, "請輸入密碼") and st.waiting == "input"
    assert st.pending is None
    st, out = d.step(st, UserInput(dtmf="2468"))
    assert st.waiting == "reenter"
    st, out = d.step(st, UserInput(dtmf="2469"))  # second mismatch: retries (1) exhausted
    t = transfer(out)
    assert t is not None and t.queue == "T1" and t.reason == "code_mismatch"
    assert "code" not in st.slots and st.pending is None
    ctx = repr(st.context())
    for secret in ("1357", "1358", "2468", "2469"):
        assert secret not in ctx


def test_chat_state_dump_masks_the_secret(tmp_path):
    from .test_chat_cli import _chat

    flows = tmp_path / "flows"
    flows.mkdir()
    _write(flows, "main.yaml", PIN_FLOW)
    r = _chat(["main", "--flows", str(flows)], ["#1357", "/state"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "請再輸入一次" in r.stdout and '"waiting": "reenter"' in r.stdout
    assert '"pending": "****"' in r.stdout and '"secret_slots": [\n    "code"' in r.stdout
    assert "1357" not in r.stdout.replace("#1357", "")  # only the line the tester typed
