"""Per-step end of turn (issue 14): the flow's settings reach the Listen, and
the dialog says whether a partial transcript already completes the answer,
with the real flows and the real NLU."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from ivr.backends.demo_bank import SEED_CUSTOMERS
from ivr.dialog import Conversation, Dialog
from ivr.dialog.end_of_turn import DEFAULTS, turn_end
from ivr.dialog.models import CollectStep

from .support import listen

WANG = SEED_CUSTOMERS[0]


@pytest.fixture
def conv(flows, real_nlu, registry):
    c = Conversation(Dialog(flows, real_nlu), registry, caller=WANG[3])
    c.start()
    return c


def complete(c: Conversation, text: str) -> bool:
    return c.dialog.answer_complete(c.state, text)


def test_menu_choice_is_complete_only_when_understood(conv):
    out = conv.key("1")  # Mandarin
    assert listen(out).kind == "intent" and listen(out).complete_ms == DEFAULTS["intent"].complete_ms
    assert complete(conv, "我要查餘額")
    assert not complete(conv, "我要")  # the NLU takes a bare 我要 as complaint (0.74): too weak to end early on
    assert not complete(conv, "我要查")
    assert not complete(conv, "")
    assert complete(conv, "轉專人")  # a global command is a whole request too


def test_date_and_pin_steps(conv):
    conv.key("1")
    out = conv.key("1")  # balance: asks the birth date
    assert listen(out).kind == "date" and listen(out).complete_ms == 300
    assert complete(conv, "民國六十三年三月十五號")
    assert not complete(conv, "民國六十三年")
    out = conv.key("0740315#")
    pin = listen(out)
    assert pin.slot == "pin" and pin.secret and pin.complete_ms == 250
    assert not complete(conv, "一二三")  # the PIN has four digits: three is not the answer yet
    assert complete(conv, "一二三四")


ACCOUNT_FLOW = """
flow: main
steps:
  - id: account
    collect: account
    type: digits
    length: "4..12"
    prompt: {zh-TW: 請說帳號, nan-TW: 請講口座}
    confirm: {zh-TW: "{account}，對嗎？", nan-TW: "{account}，著無？"}
  - id: sure
    collect: sure
    type: yes_no
    prompt: {zh-TW: 確定嗎, nan-TW: 確定無}
  - id: bye
    end: true
    prompt: {zh-TW: 再見, nan-TW: 再會}
"""


def test_variable_length_digits_and_yes_no(tmp_path, real_nlu, registry):
    from ivr.dialog import load_flows

    (tmp_path / "main.yaml").write_text(ACCOUNT_FLOW, encoding="utf-8")
    c = Conversation(Dialog(load_flows(tmp_path), real_nlu), registry)
    c.start()
    # 4..12 digits: complete only at twelve, so a caller reading in groups is not cut off
    assert not complete(c, "一二三四")
    assert complete(c, "一二三四五六七八九零一二")
    out = c.say("一二三四五")
    assert listen(out).kind == "yes_no" and c.state.waiting == "confirm"
    assert listen(out).complete_ms == DEFAULTS["yes_no"].complete_ms
    assert complete(c, "對")
    assert not complete(c, "嗯")
    out = c.say("對")
    assert listen(out).slot == "sure"
    assert complete(c, "好的") and complete(c, "不要")
    assert not complete(c, "應該吧")  # a hedge is not a clear answer


def test_step_settings_and_validation():
    base = {"id": "s", "collect": "x", "prompt": {"zh-TW": "請說"}}
    step = CollectStep.model_validate({**base, "type": "intent", "end_of_turn": {"complete_ms": 300, "silence_ms": 900}})
    assert turn_end(step, "intent") == (300, 900)
    assert turn_end(step, "yes_no") == DEFAULTS["yes_no"]  # a confirmation of the step has its own
    off = CollectStep.model_validate({**base, "type": "digits", "end_of_turn": {"complete_ms": 0}})
    assert turn_end(off, "digits") == (0, DEFAULTS["digits"].silence_ms)
    old = CollectStep.model_validate({**base, "type": "yes_no", "end_silence_ms": 800})
    assert turn_end(old, "yes_no") == (250, 800)
    assert turn_end(CollectStep.model_validate({**base, "type": "free_text"}), "free_text").complete_ms == 0
    with pytest.raises(ValidationError, match="free_text"):
        CollectStep.model_validate({**base, "type": "free_text", "end_of_turn": {"complete_ms": 250}})
    with pytest.raises(ValidationError, match="longer than silence_ms"):
        CollectStep.model_validate({**base, "type": "intent", "end_of_turn": {"complete_ms": 800, "silence_ms": 500}})
    with pytest.raises(ValidationError, match="at least 100"):
        CollectStep.model_validate({**base, "type": "intent", "end_of_turn": {"complete_ms": 50}})
