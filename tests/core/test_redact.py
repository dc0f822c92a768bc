import io
import json
import logging

import pytest

from ivr.log import get_logger, setup_logging
from ivr.redact import redact, redact_obj


@pytest.mark.parametrize(
    "text, secret",
    [
        ("身分證 A123456789 已驗證", "A123456789"),
        ("ID a223456789", "a223456789"),
        ("全形 Ａ１２３４５６７８９", "123456789"),
        ("手機 0912-345-678", "345-678"),
        ("手機 0912345678", "0912345678"),
        ("+886 912 345 678", "912 345 678"),
        ("市話 02-2345-6789", "2345-6789"),
        ("卡號 4111 1111 1111 1111", "4111 1111 1111"),
        ("帳號 012345678901", "0123456789"),
    ],
)
def test_personal_data_is_masked(text, secret):
    out = redact(text)
    assert secret not in out
    assert "*" in out


def test_ordinary_text_and_short_numbers_survive():
    assert redact("請按1查詢餘額，共3筆") == "請按1查詢餘額，共3筆"
    assert redact("餘額 12345 元") == "餘額 12345 元"


def test_redact_obj_walks_nested_structures():
    obj = {"caller": "0912345678", "turns": [{"text": "我的身分證是A123456789"}], "n": 3}
    out = redact_obj(obj)
    assert "0912345678" not in json.dumps(out) and "A123456789" not in json.dumps(out, ensure_ascii=False)
    assert out["n"] == 3


def test_json_logs_are_redacted_including_extra_fields():
    buf = io.StringIO()
    setup_logging("info", json_logs=True, stream=buf)
    log = get_logger("ivr.test")
    call_id = "8a2f0c1e-0000-4000-8123-456789012345"  # a PBX UUID: long digit runs, not personal
    log.info("caller %s keyed id", "0912345678", extra={"call_id": call_id, "slots": {"id": "A123456789"}})
    line = json.loads(buf.getvalue().strip())
    assert line["call_id"] == call_id
    assert "0912345678" not in buf.getvalue() and "A123456789" not in buf.getvalue()
    logging.getLogger("ivr").handlers.clear()


# --- numbers as recognizers and people really write them (issue 13) -----------------------------

import datetime  # noqa: E402
import re  # noqa: E402

from hypothesis import assume, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ivr.redact import mask_taiwan_ids  # noqa: E402


@pytest.mark.parametrize("text, secret", [
    ("帳號 11,2345,6789", "2345"), ("手機 0912,345,678", "345"), ("身分證 A123,456,789", "456"),
    ("卡號 4111.1111.1111.1111", "1111.1111"), ("卡號 4111/1111/1111/1111", "1111/1111"),
    ("手機 零九一二三四五六七八", "三四五六"), ("電話 么洞么、二三四、五六七", "二三四"),
    ("卡號 ４１１１－１１１１－１１１１－１１１１", "１１１１－１１１１"), ("帳號 ０１２３４５６７８９０１", "３４５６７８"),
    ("我的身分證是欸一二三四五六七八九", "三四五六七"), ("ID alpha 1 2 3 4 5 6 7 8 9", "4 5 6 7"),
    ("手機 0912 345 678", "345 678"), ("帳號 012-345-678-901", "345-678"), ("手機 0912、345、678", "345"),
    ("卡號 4111 1111 1111 1111。", "1111 1111"), ("驗證碼 123,456", "123,456"), ("身分證 Ａ１２３４５６７８９", "４５６７"),
    ("手機 兩洞兩兩三三四四五五", "三三四四"),
])
def test_numbers_with_any_separator_or_numeral_are_masked(text, secret):
    out = redact(text)
    assert secret not in out and "*" in out, out


@pytest.mark.parametrize("text", [
    "餘額 1,234 元", "轉帳 12,345,678 元", "NT$ 1,234,567", "生日 2024-01-15", "民國 113/01/15 14:30",
    "日期 2024.1.5", "請按1查詢餘額，共3筆", "2026-12-01T02:47:27Z 開始", "listening on 127.0.0.1:8080",
    "decode 0.412345 s", "call 8a2f0c1e-0000-4000-8123-456789012345", "ticket 3f2a9b1c00012345",
    "call qa-zh_dtmf_password_reset-1a2b3c4d", "一下兩個三次", "兩千三百四十五萬六千元",
])
def test_amounts_dates_and_our_ids_survive(text):
    assert redact(text) == text


def test_agents_see_a_masked_taiwan_id_and_nothing_else_changes():
    assert mask_taiwan_ids("身分證A123456789，卡號4111") == "身分證A12****789，卡號4111"
    assert mask_taiwan_ids("我是 a123-456-789") == "我是 A12****789"
    assert mask_taiwan_ids("我的身分證是欸一二三四五六七八九") == "我的身分證是A12****789"
    assert mask_taiwan_ids("居留證 AB12345678") == "居留證 AB1****678"
    assert mask_taiwan_ids("餘額 1,234 元") == "餘額 1,234 元"


_ZH = {"0": "零〇洞空", "1": "一么", "2": "二兩", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七拐",
       "8": "八", "9": "九"}
_SEPARATORS = ["", " ", "-", ".", "/", ",", "、", "，", "．", "－", "／", "　", ", ", " - "]
_CONTEXT = ["", "我的號碼是", "請幫我查", "好的，", "號碼", "card ", "帳號：", "電話是"]
_LETTER_SPELLINGS = {"A": ["A", "a", "Ａ", "欸", "alpha"], "F": ["F", "艾符", "foxtrot"], "Z": ["Z", "zulu", "賊"]}


def _digit_forms(d: str) -> list[str]:
    return [d, chr(0xFF10 + int(d))] + list(_ZH[d])


@st.composite
def _number(draw):
    kind = draw(st.sampled_from(["mobile", "landline", "card", "account", "code", "id"]))
    digits = st.text("0123456789", min_size=1, max_size=1)
    if kind == "mobile":
        value, groups = "09" + "".join(draw(digits) for _ in range(8)), [4, 3, 3]
    elif kind == "landline":
        value, groups = "0" + draw(st.sampled_from("2345678")) + "".join(draw(digits) for _ in range(8)), [2, 4, 4]
    elif kind == "card":
        value, groups = draw(st.sampled_from("345")) + "".join(draw(digits) for _ in range(15)), [4, 4, 4, 4]
    elif kind == "account":
        n = draw(st.integers(10, 16))
        value = "".join(draw(digits) for _ in range(n))
        groups = [2, 4, 4, n - 10] if n > 10 else [2, 4, 4]
    elif kind == "code":
        value, groups = "".join(draw(digits) for _ in range(6)), [3, 3]
    else:
        value = draw(st.sampled_from("12")) + "".join(draw(digits) for _ in range(8))
        groups = [3, 3, 3]
    # group the digits (or a random grouping), one separator style, each digit in some written form
    if draw(st.booleans()):
        groups, left = [], len(value)
        while left:  # groups of 2-5 digits (a lone first digit then '.' would be a decimal: 1.23456)
            g = left if left == 1 else draw(st.integers(2, min(5, left)))
            groups.append(g)
            left -= g
    sep = draw(st.sampled_from(_SEPARATORS))
    style = draw(st.sampled_from(["ascii", "fullwidth", "chinese", "mixed"]))
    parts, i = [], 0
    for g in groups:
        chunk = ""
        for d in value[i:i + g]:
            forms = _digit_forms(d)
            form = {"ascii": forms[0], "fullwidth": forms[1], "chinese": forms[2]}.get(style)
            chunk += form if form is not None else draw(st.sampled_from(forms))
        parts.append(chunk)
        i += g
    written = sep.join(p for p in parts if p)
    if kind == "id":
        letter = draw(st.sampled_from(sorted(_LETTER_SPELLINGS)))
        spelled = draw(st.sampled_from(_LETTER_SPELLINGS[letter]))
        written = spelled + draw(st.sampled_from(["", " ", "-"])) + written
    return kind, value, written


def _is_date(written: str) -> bool:
    m = re.fullmatch(r"([0-9]{2,4})([-/.])([0-9]{1,2})\2([0-9]{1,2})", written)
    if not m:
        return False
    year = int(m.group(1)) + (1911 if len(m.group(1)) < 4 else 0)
    try:
        datetime.date(year, int(m.group(3)), int(m.group(4)))
    except ValueError:
        return False
    return True


def _digits_left(text: str) -> list[str]:
    """Every digit character left in the text, in any written form, as 0-9."""
    table = {c: d for d in _ZH for c in _digit_forms(d)}
    return [table[c] for c in text if c in table]


@settings(max_examples=400, deadline=None)
@given(_number(), st.sampled_from(_CONTEXT), st.sampled_from(["", "。", "，謝謝", " 好嗎"]))
@example(("account", "1123456789", "11,2345,6789"), "", "")
@example(("mobile", "0912345678", "0912,345,678"), "", "")
@example(("id", "123456789", "A123,456,789"), "", "")
@example(("card", "4111111111111111", "4111.1111.1111.1111"), "", "")
@example(("card", "4111111111111111", "4111/1111/1111/1111"), "", "")
@example(("mobile", "0912345678", "零九一二三四五六七八"), "", "")
@example(("card", "3000000000000011", "30-00-00-00000-00-01-1"), "", "")  # a date-like tail is no date
def test_no_personal_number_survives_redaction(number, before, after):
    kind, value, written = number
    assume(not re.fullmatch(r"(?:127|10|192|172)(?:\.[0-9]{1,3}){3}", written))  # a private IP address, by any reading
    assume(not _is_date(written))  # 10-01-01 or 2024/01/15: a date by any reading, and dates are kept
    out = redact(before + written + after)
    left = _digits_left(out)
    # at most the last two digits of a long number are kept (to tell records apart); nothing else of it
    assert len(left) <= 2, (written, out)
    assert "".join(left) == value[-len(left):] if left else True
    if kind == "id":
        assert "****" in mask_taiwan_ids(before + written + after)
