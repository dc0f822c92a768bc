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


# Initials a recogniser (or a Taiwan accent) swaps for each other.
_NEAR_INITIALS = ({"l", "n", "r"}, {"f", "h"}, {"b", "p"}, {"d", "t"}, {"g", "k"}, {"j", "q", "x"}, {"z", "c", "s"})
_INITIAL_LIST = ("z", "c", "s", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "y", "w")


def _split(syllable: str) -> tuple[str, str]:
    if syllable[:1] in _INITIAL_LIST:
        return syllable[:1], syllable[1:]
    return "", syllable


def syllable_similarity(a: str, b: str) -> float:
    """1 for the same toneless (folded) syllable; 0.6 when only the initial is a
    near one (l/n, f/h…) or only the final differs; else 0."""
    if a == b:
        return 1.0
    ia, fa = _split(a)
    ib, fb = _split(b)
    if fa == fb and any(ia in g and ib in g for g in _NEAR_INITIALS):
        return 0.6
    if ia == ib and ia and (fa[:1] == fb[:1] or fa[-1:] == fb[-1:]):
        return 0.6
    return 0.0


class PhoneticMatcher:
    """Finds an expected answer's key phrase by sound inside a transcript:
    掛石 matches 掛失, 秘馬 matches 密碼, 於額 matches 餘額 (toneless pinyin,
    heteronyms and near syllables allowed). A phrase must have two or more
    syllables: one syllable matches too much by chance."""

    def __init__(self, table: PinyinTable, phrases: dict[str, tuple[str, ...]]) -> None:
        self._py = table
        self._phrases = {label: [(p, [table.readings(c) for c in p]) for p in items if len(p) >= 2]
                         for label, items in phrases.items()}

    def labels(self) -> tuple[str, ...]:
        return tuple(self._phrases)

    def best(self, text: str, labels: tuple[str, ...] | list[str],
             anchored: bool = False) -> tuple[str | None, float, str]:
        """(label, score 0..1, the phrase heard) of the best match among ``labels``;
        ``anchored``: only a phrase at the start of ``text`` (an answer's lead word)."""
        han = [c for c in text if not c.isspace()]
        said = [self._py.readings(c) for c in han]
        top: tuple[str | None, float, str] = (None, 0.0, "")
        for label in labels:
            for phrase, sounds in self._phrases.get(label, ()):
                k = len(sounds)
                for i in range(min(len(said) - k + 1, 1) if anchored else len(said) - k + 1):
                    score = sum(max(syllable_similarity(x, y) for x in said[i + j] for y in sounds[j])
                                for j in range(k)) / k
                    if score > top[1]:
                        top = (label, score, phrase)
        return top
