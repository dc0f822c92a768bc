"""A Taiwan ID step reads the recognizer's next-best transcripts (UserInput.alternatives,
issue 11) when the best one gives no valid value: the first whose checksum holds wins,
none valid is a no-match and the step asks again. Steps with a weak validity test
(a digit count, a date, an amount) do not. Real NLU, real checksum."""
from __future__ import annotations

import pytest

from ivr.dialog import Conversation, Dialog
from ivr.dialog.extract import extract_value
from ivr.dialog.models import CollectStep
from ivr.frames import UserInput

from .support import listen


def step(kind: str, **more) -> CollectStep:
    return CollectStep.model_validate({"id": "s", "collect": "v", "type": kind, "prompt": {"zh-TW": "請說"}, **more})


PIN = step("digits", length=4)
IDENT = step("taiwan_id")


def test_best_transcript_wins_when_valid(real_nlu):
    assert extract_value(IDENT, "A123456789", "", "zh-TW", real_nlu, ("F223456786",)) == ("A123456789", 1.0)


def test_first_valid_alternative_wins_in_order(real_nlu):
    # A123456788 and A123456787 fail the checksum, F223456786 and A123456789 hold
    alts = ("A123456787", "F223456786", "A123456789")
    assert extract_value(IDENT, "A123456788", "", "zh-TW", real_nlu, alts) == ("F223456786", 1.0)


def test_no_valid_alternative_is_no_value(real_nlu):
    assert extract_value(IDENT, "A123456788", "", "zh-TW", real_nlu, ("A123456787", "你好")) == (None, 0.0)
    assert extract_value(IDENT, "A123456788", "", "zh-TW", real_nlu) == (None, 0.0)


def test_weak_validity_tests_do_not_read_alternatives(real_nlu):
    # a digit count, a date that exists, an amount that parses: the first valid next-best
    # was as often wrong as right (bench/number_decoding.py), so the step asks again
    assert extract_value(PIN, "一二三", "", "zh-TW", real_nlu, ("一二三四",)) == (None, 0.0)
    date = step("date")
    assert extract_value(date, "一九九零年二月三十號", "", "zh-TW", real_nlu, ("一九九零年二月十三號",))[0] is None
    assert extract_value(date, "一九九零年二月十三號", "", "zh-TW", real_nlu)[0] == "1990-02-13"


def test_keys_and_other_kinds_ignore_alternatives(real_nlu):
    # keyed digits are the caller's own answer: never replaced by a guess from speech
    assert extract_value(IDENT, "", "1012345678", "zh-TW", real_nlu, ("A123456789",)) == (None, 1.0)
    # a yes/no or free-text step has no validity test to choose by
    assert extract_value(step("yes_no"), "嗯", "", "zh-TW", real_nlu, ("是",))[0] is None
    assert extract_value(step("free_text"), "你好", "", "zh-TW", real_nlu, ("再見",)) == ("你好", 1.0)


FLOW = """
flow: main
steps:
  - id: pin
    collect: pin
    type: digits
    length: 4
    secret: true
    prompt: {zh-TW: 請說密碼, nan-TW: 請講密碼}
  - id: ident
    collect: ident
    type: taiwan_id
    prompt: {zh-TW: 請說身分證字號, nan-TW: 請講身分證字號}
  - id: bye
    end: true
    prompt: {zh-TW: 再見, nan-TW: 再會}
"""


@pytest.fixture
def conv(tmp_path, real_nlu, registry):
    from ivr.dialog import load_flows

    (tmp_path / "main.yaml").write_text(FLOW, encoding="utf-8")
    c = Conversation(Dialog(load_flows(tmp_path), real_nlu), registry)
    c.start()
    return c


def test_dialog_asks_again_when_none_valid_and_takes_the_first_valid(conv):
    # the PIN's digit count is too weak a test: its next-best are not read
    out = conv._feed(UserInput(text="一二三", alternatives=("四三二一",), timestamp=1.0))
    assert listen(out).slot == "pin" and conv.state.no_match == 1
    out = conv._feed(UserInput(text="四三二一", alternatives=("一二三四",), timestamp=2.0))
    assert listen(out).slot == "ident" and conv.state.slots["pin"] == "4321"
    out = conv._feed(UserInput(text="A123456788", alternatives=("A123456787",), timestamp=3.0))
    assert listen(out).slot == "ident" and conv.state.no_match == 1  # nothing valid: asked again
    conv._feed(UserInput(text="A123456788", alternatives=("A123456787", "A123456789"), timestamp=4.0))
    assert conv.state.slots["ident"] == "A123456789"
