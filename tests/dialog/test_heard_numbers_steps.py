"""At a number step the dialog takes what the NLU reads from Whisper's transcript
(issue 11): a digit written as a sound-alike is read back, and a value the
transcript holds only in pieces is no value, so the step asks again instead of
taking a wrong amount or date. Real NLU."""
from __future__ import annotations

import pytest

from ivr.dialog.extract import extract_value
from ivr.dialog.models import CollectStep


def step(kind: str, **more) -> CollectStep:
    return CollectStep.model_validate({"id": "s", "collect": "v", "type": kind, "prompt": {"zh-TW": "請說"}, **more})


@pytest.mark.parametrize(("kind", "more", "heard", "value"), [
    ("digits", {"length": 6}, "那八幾八洞洞起", "878007"),
    ("date", {}, "民國起11年的3月5號", "1982-03-05"),
    ("amount", {}, "交以往兩千五百塊錢", 12500),
    ("taiwan_id", {}, "好,五年,秋一七六一二四六零二", "Q176124602"),
])
def test_sound_alike_digits_are_read_back(real_nlu, kind, more, heard, value):
    assert extract_value(step(kind, **more), heard, "", "zh-TW", real_nlu) == (value, 1.0)


@pytest.mark.parametrize(("kind", "heard"), [
    ("amount", "十二萬、千五百元"),        # 120000 千 500: not 500
    ("amount", "十、二、千、五、百、元、耶"),  # not 10
    ("amount", "臺灣兩千五百塊錢哦"),      # a 萬 heard as a word, its multiplier lost: not 2500
    ("date", "生日死留一年七月二十五號"),  # 四六一年 is no ROC year
    ("digits", "嚴重馬鈴、九、九、八、四、六、六、二、五"),  # 9 digits for a 10-digit code
])
def test_a_value_heard_in_pieces_is_asked_again(real_nlu, kind, heard):
    s = step(kind, length=10) if kind == "digits" else step(kind)
    assert extract_value(s, heard, "", "zh-TW", real_nlu) == (None, 0.0)
