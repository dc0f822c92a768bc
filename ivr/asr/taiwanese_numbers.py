"""Taiwanese number words for the pocketsphinx grammar of a digit, PIN, date or
amount step in nan-TW.

A caller keys nothing and reads the PIN aloud: "it jī sann sì", or colloquially
"tsi̍t nn̄g sann sì", or in Mandarin ("yī èr sān sì", 么 for one) — callers mix
the three. The step's vocabulary (``Nlu.expected_phrases("digits", "nan-TW")``:
零一二三四五六七八九空兩, plus 十 百 千 萬 箍 年 月 號 民國… for amounts and dates)
becomes a **loop grammar**: any number of tokens in a row, each token with all
of its readings below, so "1 2 3 4" is one turn and not four.

The recognizer answers the tokens' Han characters (一二三四, 民國七十四年三月十五號);
``ivr.nlu.numbers_nan`` reads those (and Tâi-lô) into digits, dates and values."""
from __future__ import annotations

from collections.abc import Callable, Sequence

# Han token -> toneless Tâi-lô readings (colloquial and literary; Tsiang-tsiu/Tsuan-tsiu
# variants where callers differ, e.g. jī/lī for 二, gue̍h/ge̍h for 月).
TAILO_READINGS: dict[str, tuple[str, ...]] = {
    "零": ("khong", "ling"), "空": ("khong",),
    "一": ("it", "tsit"), "二": ("ji", "li"), "兩": ("nng",), "三": ("sann", "sam"), "四": ("si", "su"),
    "五": ("goo", "ngoo"), "六": ("lak", "liok"), "七": ("tshit",), "八": ("pat", "peh"), "九": ("kau", "kiu"),
    "十": ("tsap", "sip"), "百": ("pah",), "千": ("tshing",), "萬": ("ban",),
    "箍": ("khoo",), "元": ("guan",), "年": ("ni",), "月": ("gueh", "geh"), "日": ("jit", "lit"),
    "號": ("ho",), "民國": ("bin kok",),
}
# Readings borrowed from Mandarin (pronounced with the Mandarin lexicon); 么 answers as 一.
MANDARIN_BORROWED = ("零", "一", "么", "二", "兩", "三", "四", "五", "六", "七", "八", "九", "十")
ANSWERS_AS = {"么": "一"}
DIGITS = frozenset("零一二三四五六七八九")
MAX_TOKEN = 3  # a number vocabulary's tokens are short (民國, 今仔日)


def is_number_vocabulary(phrases: Sequence[str]) -> bool:
    """The expected phrases are a number step's vocabulary: every digit, nothing long."""
    p = {x.strip() for x in phrases}
    return p >= DIGITS and all(0 < len(x) <= MAX_TOKEN for x in p)


def token_readings(token: str, taiwanese: Callable[[str], list[str]],
                   mandarin: Callable[[str], list[str]]) -> list[tuple[str, list[str]]]:
    """(answer text, per-syllable phone strings) for every reading of ``token``:
    its Taiwanese readings (``TAILO_READINGS``, else taibun's via ``taiwanese``)
    and, for digits, the Mandarin one. Duplicates (空/零 khong) are kept once."""
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()

    def add(text: str, words: list[str]) -> None:
        key = " | ".join(words)
        if words and key not in seen:
            seen.add(key)
            out.append((text, words))

    for tailo in TAILO_READINGS.get(token, ()):
        add(token, taiwanese(tailo))
    if token not in TAILO_READINGS and token not in ANSWERS_AS:  # 么 is Mandarin radio talk only
        add(token, taiwanese(token))
    if token in MANDARIN_BORROWED:
        add(ANSWERS_AS.get(token, token), mandarin(token))
    return out


def vocabulary(phrases: Sequence[str]) -> list[str]:
    """The loop's tokens: the step's phrases plus the Mandarin-borrowed 么."""
    out = list(dict.fromkeys(x.strip() for x in phrases))
    return out + [t for t in ANSWERS_AS if t not in out]


def loop_jsgf(token_words: Sequence[str], whole_words: Sequence[str] = ()) -> str:
    """A JSGF grammar: one or more number tokens, or one of ``whole_words`` (decoys)."""
    tokens = " | ".join(token_words)
    whole = "".join(f" | {w}" for w in whole_words)
    return f"#JSGF V1.0;\ngrammar ivr;\n<n> = {tokens};\npublic <turn> = <n>+{whole};\n"
