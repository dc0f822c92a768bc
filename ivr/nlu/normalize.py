"""Text normalisation shared by classification and extraction.

Two levels: ``fold`` keeps every word (entity extraction needs the 欸 that
may be the letter A, and the particles that carry yes/no), ``clean`` also
drops fillers and polite openers that carry no intent."""
from __future__ import annotations

import re
import unicodedata

import opencc

from .numbers import fold_numerals, join_spoken_digits

# Fillers and openers that only add noise to intent matching; longest first.
FILLERS = ("不好意思", "請問一下", "麻煩你", "麻煩", "請問", "那個", "就是", "然後",
           "嗯", "呃", "欸", "誒", "唉", "喔", "哦", "噢", "啊", "呀", "啦", "耶", "吼", "齁", "嘛", "吧")
_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
# 1,230 / 12,500 / 1,000,000: commas of thousands groups only (1000,2000 is two numbers)
_DIGIT_GROUP = re.compile(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?![\d,])")


class Normalizer:
    """Holds the OpenCC converter (loaded once); everything else is pure."""

    def __init__(self) -> None:
        self._s2twp = opencc.OpenCC("s2twp")

    def fold(self, text: str) -> str:
        """Traditional (Taiwan), half-width, numerals as ASCII, lower-case
        latin, no punctuation, spaces only between latin words/digits."""
        text = unicodedata.normalize("NFKC", text)
        text = join_spoken_digits(text)
        text = fold_numerals(text)
        text = self._s2twp.convert(text)
        text = _DIGIT_GROUP.sub(lambda m: m.group().replace(",", ""), text)  # 1,230 is one number
        text = _PUNCT.sub(" ", text)
        text = _SPACE.sub(" ", text).strip()
        text = _CJK_GAP.sub("", text)
        return text.lower()

    def clean(self, text: str) -> str:
        """``fold`` plus fillers removed: the form intents are matched on."""
        text = self.fold(text)
        for filler in FILLERS:
            text = text.replace(filler, "")
        return text.strip()
