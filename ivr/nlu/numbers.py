"""Chinese numerals -> ASCII digits and integers.

Callers read account numbers digit by digit (零九一二…, with the radio-style
么/洞/拐 and Taiwanese 空 for zero) and amounts with units (一千兩百三十,
and the clipped 三萬五 = 35000). A numeral run without unit characters is a
digit string; a run with units is a value. Lone 一/兩 inside words (一下,
兩個, 統一) are not numbers, so a single numeral only folds when a counter
that makes it a number (月, 號, 元…) follows it."""
from __future__ import annotations

import re
import unicodedata

DIGIT_CHARS = {
    "零": 0, "〇": 0, "○": 0, "洞": 0, "空": 0,
    "一": 1, "壹": 1, "么": 1, "幺": 1,
    "二": 2, "貳": 2, "兩": 2, "两": 2,
    "三": 3, "參": 3, "叁": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陸": 6,
    "七": 7, "柒": 7, "拐": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9, "勾": 9,
}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"萬": 10_000, "万": 10_000, "億": 100_000_000, "亿": 100_000_000}
# Only these stand for a digit when they are not inside a run of other numerals:
# 洞 (hole), 拐 (turn), 空 (empty), 勾 (hook), 么 are ordinary words too.
AMBIGUOUS = set("洞拐空勾么幺")
# A single numeral becomes a number only before one of these.
COUNTERS = set("月號号日年元塊块箍歲岁點点分樓楼次位萬万億亿千百十")

_NUMERAL = "".join(DIGIT_CHARS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS)
_RUN = re.compile(f"[{_NUMERAL}]+")
# Whisper writes digits read one by one as 一、二、三、四 / 一 二 三 四 / 1、2、3、4.
# A spoken digit is a single digit character with no other numeral touching it,
# so 一千、兩百 and 十一月 are never taken apart or glued together.
_LONE_DIGIT = f"(?<![{_NUMERAL}0-9])[{''.join(DIGIT_CHARS)}0-9](?![{_NUMERAL}0-9])"
_SEP_MARKS = "、,，;；·・"
_DIGIT_SEP = f"[\\s{_SEP_MARKS}]+"
_SPOKEN_DIGITS = re.compile(f"{_LONE_DIGIT}(?:{_DIGIT_SEP}{_LONE_DIGIT})+")


def parse_value(run: str) -> int | None:
    """Value of a numeral run with units (一千兩百三十 -> 1230, 三萬五 -> 35000,
    十五 -> 15, 一千零五 -> 1005); None if it is not a well-formed number."""
    total = 0          # completed 萬/億 sections
    section = 0        # within the current 萬 section
    digit: int | None = None
    last_unit = 0      # the unit just used, for clipped forms
    zero_seen = False
    for ch in run:
        if ch in DIGIT_CHARS:
            if digit is not None:
                return None  # two digits in a row inside a valued number
            digit = DIGIT_CHARS[ch]
            if digit == 0:
                zero_seen, digit = True, None
        elif ch in SMALL_UNITS:
            unit = SMALL_UNITS[ch]
            if digit is None and unit == 10 and section == 0 and not zero_seen:
                digit = 1  # 十五 = 15
            if digit is None:
                if unit == 10 and zero_seen:
                    digit = 1  # 一百零十 is unusual but means 110
                else:
                    return None
            section += digit * unit
            digit, last_unit, zero_seen = None, unit, False
        else:
            unit = BIG_UNITS[ch]
            if digit is not None:
                section += digit
            if section == 0:
                return None
            total += section * unit
            section, digit, last_unit, zero_seen = 0, None, unit, False
    if digit is not None:
        # 三萬五 / 兩百五 / 三千五: a trailing digit right after a unit is one unit lower
        if last_unit >= 100 and not zero_seen:
            digit *= last_unit // 10
        section += digit
    return total + section


# Whisper writes amounts in Arabic digits with Chinese units: 15萬, 1.5萬, 12萬3000, 3萬5, 2千5
_ARABIC_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_UNIT_CLASS = "".join(SMALL_UNITS) + "".join(BIG_UNITS)
# 5萬零200: a 零 between the parts says the next part is not one unit lower (50200, not 3萬5's rule)
_ARABIC_WITH_UNITS = re.compile(f"{_ARABIC_NUMBER}[{_UNIT_CLASS}](?:[零〇]?{_ARABIC_NUMBER}[{_UNIT_CLASS}]?)*")
_ARABIC_PART = re.compile(f"([零〇]?)({_ARABIC_NUMBER})([{_UNIT_CLASS}]?)")


def arabic_value(run: str) -> int | None:
    """Value of Arabic digits with Chinese units (15萬 -> 150000, 1.5萬 -> 15000,
    12萬3000 -> 123000, 3萬5 -> 35000); None if not a whole, well-formed number."""
    total, section, last_unit = 0.0, 0.0, 0
    parts = _ARABIC_PART.findall(run)
    for k, (zero, number, unit) in enumerate(parts):
        v = float(number.replace(",", ""))
        if unit in BIG_UNITS:
            section += v
            if section == 0:
                return None
            total += section * BIG_UNITS[unit]
            section, last_unit = 0.0, BIG_UNITS[unit]
        elif unit:
            section += v * SMALL_UNITS[unit]
            last_unit = SMALL_UNITS[unit]
        elif k == len(parts) - 1 and number.isdigit() and len(number) == 1 and last_unit >= 100 and not zero:
            section += v * (last_unit // 10)  # 3萬5 / 2千5: one digit after a unit is one unit lower
        else:
            section += v
    value = total + section
    return int(value) if value == int(value) else None


def fold_arabic_units(text: str) -> str:
    """15萬塊 -> 150000塊: Arabic digits with Chinese units become one integer."""
    def sub(m: re.Match[str]) -> str:
        value = arabic_value(m.group())
        return m.group() if value is None else str(value)
    return _ARABIC_WITH_UNITS.sub(sub, text)


def fold_numerals(text: str) -> str:
    """Replace numeral runs with ASCII: digit strings digit by digit, values as
    integers (一二三 -> 123, 兩百五十 -> 250, 15萬 -> 150000); words like 一下 stay."""
    text = fold_arabic_units(text)
    out: list[str] = []
    pos = 0
    for m in _RUN.finditer(text):
        run = m.group()
        start = m.start()
        # a run may not start with a bare big/small unit other than 十 (萬一 = "in case")
        while run and (run[0] in BIG_UNITS or (run[0] in SMALL_UNITS and run[0] not in "十拾")):
            run = run[1:]
            start += 1
        if not run:
            continue
        nxt = text[m.end()] if m.end() < len(text) else ""
        if len(run) == 1 and run not in "十拾" and (run in AMBIGUOUS or nxt not in COUNTERS or nxt in SMALL_UNITS):
            continue
        if len(run) == 2 and all(c in AMBIGUOUS for c in run):
            continue  # 空洞, 么么: words; three or more (么洞拐) is a radio-style number
        folded = _fold_run(run)
        if folded is None:
            continue
        out.append(text[pos:start])
        out.append(folded)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def join_spoken_digits(text: str) -> str:
    """Drop the separators between digits spoken one by one (一、二、三 -> 一二三,
    1 2 3 -> 123). Two lone digits apart by only a space stay apart (a date's
    1990 1 2 keeps its month and day), as do runs made only of 洞/拐/空/勾/么,
    which are ordinary words too. A value Whisper wrote one syllable at a time
    (兩、千、五、百 -> 兩千五百, 二十、七日 -> 二十七日) is glued back: see
    ``join_value_syllables``."""
    def join(m: re.Match[str]) -> str:
        found = m.group()
        chars = re.sub(_DIGIT_SEP, "", found)
        if all(c in AMBIGUOUS for c in chars):
            return found
        if len(chars) == 2 and not any(c in _SEP_MARKS for c in found):
            return found
        return chars
    return _SPOKEN_DIGITS.sub(join, join_value_syllables(text))


# Whisper base, hearing a number said slowly, writes one numeral per syllable
# between 、 (兩、千、五、百、塊 for 兩千五百塊; 二十、七日 for 二十七日).
_ONE_NUMERAL = f"(?<![{_NUMERAL}0-9])[{_NUMERAL}](?![{_NUMERAL}0-9])"
_SYLLABLE_RUN = re.compile(f"{_ONE_NUMERAL}(?:[{_SEP_MARKS}]\\s*{_ONE_NUMERAL})+")
_TENS_THEN_DIGIT = re.compile(f"(?<![{_NUMERAL}0-9])([{''.join(DIGIT_CHARS)}]?十)[{_SEP_MARKS}]\\s*"
                              f"([{''.join(DIGIT_CHARS)}])(?=[日號号])")


# ... and a date's counters apart from their numbers (五十九、年、八、月、二十七、號):
# a separator between a number and its 年/月/日/號 is never meaning
_COUNTER_GAP = re.compile(f"(?<=[{_NUMERAL}0-9])[{_SEP_MARKS}]\\s*(?=[年月日號号])"
                          f"|(?<=[年月])[{_SEP_MARKS}]\\s*(?=[{_NUMERAL}0-9])")


def join_value_syllables(text: str) -> str:
    """Glue a number written one syllable at a time back into one run, only where the
    syllables hold a unit and together make one well-formed value (兩、千、五、百 ->
    兩千五百; 四、八、八、四 has no unit and is left to the digit joiner; 三、百、五、百
    is two values and stays). A day said 二十、七日 is 二十七日: a lone digit cannot
    be a day's number by itself after a tens word. 八、月 is 八月."""
    def glue(m: re.Match[str]) -> str:
        run = re.sub(f"[{_SEP_MARKS}\\s]", "", m.group())
        if not any(c in SMALL_UNITS or c in BIG_UNITS for c in run):
            return m.group()
        return run if well_formed(run) else m.group()
    text = _SYLLABLE_RUN.sub(glue, text)
    text = _UNIT_CUT_OFF.sub(lambda m: m.group(1) + m.group(2) if well_formed(m.group(1) + m.group(2))
                             else m.group(), text)
    text = _TENS_THEN_DIGIT.sub(lambda m: m.group(1) + m.group(2), text)
    return _COUNTER_GAP.sub("", text)


# ... or cut a value before its last unit (三千五、百元 for 三千五百元): a unit word alone
# after a separator belongs to the value before it when together they are one value
_UNIT_CUT_OFF = re.compile(f"(?<![{_NUMERAL}])([{_NUMERAL}]*[{''.join(SMALL_UNITS)}{''.join(BIG_UNITS)}][{_NUMERAL}]*)"
                           f"[{_SEP_MARKS}]\\s*([{''.join(SMALL_UNITS)}{''.join(BIG_UNITS)}])(?![{_NUMERAL}0-9])")


def well_formed(run: str) -> bool:
    """A valued numeral run whose units fall from left to right (兩千五百, 三萬五千二),
    as a single number is said; 三百五百 is two numbers."""
    if parse_value(run) is None:
        return False
    small, big = 10**9, 10**12
    for ch in run:
        if ch in BIG_UNITS:
            if BIG_UNITS[ch] >= big:
                return False
            big, small = BIG_UNITS[ch], 10**9
        elif ch in SMALL_UNITS:
            if SMALL_UNITS[ch] >= small:
                return False
            small = SMALL_UNITS[ch]
    return True


def _fold_run(run: str) -> str | None:
    if not any(c in SMALL_UNITS or c in BIG_UNITS for c in run):
        return "".join(str(DIGIT_CHARS[c]) for c in run)
    # a value's units fall from left to right (十二千五百 is no number: left as words, the
    # step asks again instead of taking 2510)
    value = parse_value(run) if well_formed(run) else None
    if value is not None:
        return str(value)
    # digits read one by one that end in a unit word, e.g. 一二三十: keep the digits only
    return None


_UNIT_CHARS = "".join(SMALL_UNITS) + "".join(BIG_UNITS) + "元塊块箍年月號号日"
_DIGIT_ONLY = "".join(DIGIT_CHARS)
_DIGIT_GROUPS = re.compile(f"[{_DIGIT_ONLY}0-9]+(?:[\\s{_SEP_MARKS}\\-]*[{_DIGIT_ONLY}0-9]+)*")


# Whisper writes a leading yī of a digit string as 以 (T、以89817299 for T 1 8 9 8…).
# Only where 以 opens a run of digits and follows no Han character: 可以12 stays.
_YI_AS_ONE = re.compile(f"(?<![\u3400-\u9fff])以(?=[{_DIGIT_ONLY}0-9])")


# Whisper writes the frame word 是 (shì) before a digit string as 十 (shí): 是零九一…
# came back 十零九一…, 是二六五六零七 as 十二六五六零七. 十 before a zero is never a
# number (十零 is not said), and a tens word does not open a string of four or more
# digits said one by one; only there, where a digit string is expected.
_SHI_AS_IS = re.compile(f"(?<![{_NUMERAL}0-9])十(?=[零〇○0]|(?:[{_SEP_MARKS}\\s]*[{_DIGIT_ONLY}0-9]){{4}})")


def spell_digits(text: str) -> str:
    """For a step that expects a digit string (PIN, OTP, account, ID): digits said
    one by one in any grouping (四三 二一, 零九一二，三四五，六七八, 二七 七三 三)
    become one ASCII run. A lone numeral (一下) and numbers with units (兩千,
    三月) are left to ``fold_numerals``. A 以 opening a digit run is the digit 一
    as Whisper writes it (only here, where a digit string is expected)."""
    def sub(m: re.Match[str]) -> str:
        found = m.group()
        chars = [c for c in found if c in DIGIT_CHARS or c.isdigit()]
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if (before and before in _UNIT_CHARS) or (after and after in _UNIT_CHARS):
            return found
        if len(chars) < 2 or (len(chars) == 2 and all(c in AMBIGUOUS for c in chars)):
            return found
        return "".join(str(DIGIT_CHARS[c]) if c in DIGIT_CHARS else c for c in chars)
    text = _YI_AS_ONE.sub("一", unicodedata.normalize("NFKC", text))
    text = _SHI_AS_IS.sub("", text)
    return _DIGIT_GROUPS.sub(sub, text)
