"""Property tests: numerals written out by an independent speller parse back,
and no input makes the NLU raise or answer differently twice."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.nlu import fold_numerals, parse_value

DIGITS = "零一二三四五六七八九"


def spell(n: int) -> str:
    """Chinese numerals for 1 <= n < 10**12, the way a caller reads them
    (一千零五, 十五, 三萬零二十)."""
    def below_10k(v: int, leading: bool) -> str:
        out, zero = "", False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = v // unit % 10
            if d == 0:
                zero = bool(out) or not leading
                continue
            if zero and (out or not leading):
                out += "零"
            zero = False
            out += ("" if (d == 1 and unit == 10 and not out and leading) else DIGITS[d]) + name
        return out

    parts = [(n // 10**8, "億"), (n // 10**4 % 10**4, "萬"), (n % 10**4, "")]
    out = ""
    for value, name in parts:
        if value:
            if out and value < 1000:
                out += "零"
            out += below_10k(value, leading=not out) + name
    return out.replace("零零", "零")


@given(st.integers(min_value=1, max_value=10**12 - 1))
@settings(max_examples=300, deadline=None)
def test_spelled_numbers_parse_back(n):
    assert parse_value(spell(n)) == n


@given(st.text(alphabet=DIGITS + "么洞拐兩", min_size=3, max_size=12))
def test_digit_runs_fold_digit_by_digit(run):
    folded = fold_numerals(run)
    assert folded.isdigit() and len(folded) == len(run)


@given(st.text(max_size=30))
@settings(max_examples=200, deadline=None)
def test_any_text_is_handled(nlu, text):
    first = nlu.classify(text, "zh-TW")
    assert first == nlu.classify(text, "zh-TW")
    assert first.intent is None or first.intent in nlu.intents
    nlu.commands(text, "nan-TW")
    for kind in ("yes_no", "digits", "amount", "date", "taiwan_id", "free_text"):
        nlu.extract(kind, text, "zh-TW")
