"""Toneless, accent-folded pinyin per character, so that ASR homophones
(於額 for 餘額, 掛時 for 掛失, 充設 for 重設) share features with the word
the caller said. Taiwan Mandarin and recognisers both blur retroflex/dental
(zh/z, ch/c, sh/s) and -ing/-in, -eng/-en, so those are folded together."""
from __future__ import annotations

from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FINALS = (("ing", "in"), ("eng", "en"))


def fold_syllable(syllable: str) -> str:
    s = to_normal(syllable).replace("ü", "v")
    for long, short in _INITIALS:
        if s.startswith(long):
            s = short + s[len(long):]
            break
    for long, short in _FINALS:
        if s.endswith(long):
            s = s[: -len(long)] + short
            break
    return s


class PinyinTable:
    """Readings of a character (heteronyms kept: 重 is zhong and chong).
    Memoised per instance; the answer for a character never changes."""

    def __init__(self, max_readings: int = 3) -> None:
        self._max = max_readings
        self._memo: dict[str, tuple[str, ...]] = {}

    def readings(self, ch: str) -> tuple[str, ...]:
        got = self._memo.get(ch)
        if got is None:
            raw = pinyin_dict.get(ord(ch))
            if raw is None:
                got = (ch,)  # latin, digits, unknown: the character stands for itself
            else:
                seen: list[str] = []
                for r in raw.split(","):
                    f = fold_syllable(r)
                    if f not in seen:
                        seen.append(f)
                got = tuple(seen[: self._max])
            self._memo[ch] = got
        return got

    def first(self, text: str) -> str:
        """One reading per character, space separated (for string matching)."""
        return " ".join(self.readings(c)[0] for c in text)
