"""Pronunciations on the pocketsphinx Mandarin model's phone set.

The model (tdt_sc_8k + mandarin_notone.dic) spells toneless pinyin as
initial + final phones: 你好 = ``n i h ao``, 是 = ``sh ib``, 雨 = ``uxs ux``.

* Mandarin phrases: longest dictionary words first; characters the
  dictionary lacks go through pypinyin's toneless pinyin, mapped onto phones
  with a syllable table learned from the dictionary's own one-character
  entries (so it always agrees with the dictionary).
* Taiwanese phrases: Han characters are converted to toneless Tâi-lô with
  ``taibun``; each Tâi-lô syllable is split into initial + final and both
  are mapped to the nearest Mandarin phones (stop codas and nasalisation,
  which Mandarin lacks, are dropped)."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from ivr.errors import IvrError

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MAX_WORD = 8

# Tâi-lô initials, longest first; "ch"/"chh" are the older (POJ) spellings
TAILO_INITIALS = ("tsh", "chh", "ts", "ch", "ph", "th", "kh", "ng",
                  "b", "p", "m", "t", "n", "l", "k", "g", "h", "s", "j")
# Taiwanese initial -> Mandarin phone; aspirated/unaspirated pairs line up as
# p/b, t/d, k/g in pinyin's convention; voiced b/g keep their letters.
INITIAL_PHONE = {"p": "b", "ph": "p", "b": "b", "m": "m", "t": "d", "th": "t", "n": "n", "l": "l",
                 "k": "g", "kh": "k", "g": "g", "ng": "n", "h": "h", "ts": "z", "tsh": "c", "ch": "z",
                 "chh": "c", "s": "s", "j": "z"}
# before i, Mandarin has only the palatal series
PALATAL = {"z": "j", "c": "q", "s": "x"}
# Taiwanese final (stop coda and nasalisation removed, -m merged into -n) -> phones
FINAL_PHONES = {
    "a": ["a"], "ai": ["ai"], "au": ["ao"], "an": ["an"], "ang": ["ang"],
    "e": ["ei"], "en": ["en"], "o": ["o"], "oo": ["o"], "ong": ["ong"], "on": ["ong"],
    "i": ["i"], "ia": ["ia"], "iau": ["iao"], "ian": ["ian"], "iang": ["iang"], "io": ["i", "o"],
    "iong": ["iong"], "iu": ["iu"], "in": ["in"], "ing": ["ing"], "ir": ["if"], "er": ["e"],
    "u": ["u"], "ua": ["ua"], "uai": ["uai"], "uan": ["uan"], "uang": ["uang"], "ue": ["u", "ei"],
    "ui": ["ui"], "un": ["un"], "m": ["m"], "ng": ["eng"], "ee": ["ei"], "ie": ["ie"],
}
# a syllable with no initial: pinyin's y/w and the model's zero-initial phones
ZERO_INITIAL = {
    "i": ("y", ["i"]), "ia": ("y", ["a"]), "iau": ("y", ["ao"]), "ian": ("y", ["an"]), "iang": ("y", ["ang"]),
    "io": ("y", ["o"]), "iong": ("y", ["ong"]), "iu": ("y", ["ou"]), "in": ("y", ["in"]), "ing": ("y", ["ing"]),
    "u": ("w", ["u"]), "ua": ("w", ["a"]), "uai": ("w", ["ai"]), "uan": ("w", ["an"]), "uang": ("w", ["ang"]),
    "ue": ("w", ["ei"]), "ui": ("w", ["ei"]), "un": ("w", ["en"]),
}
VOWEL_ONSET = {"a": "as", "e": "es", "o": "os"}


def strip_tones(tailo: str) -> str:
    """Tâi-lô with diacritics or tone numbers -> toneless lowercase ASCII."""
    base = "".join(c for c in unicodedata.normalize("NFD", tailo) if not unicodedata.combining(c))
    return re.sub(r"\d", "", base).lower().replace("ⁿ", "nn")


def tailo_syllables(text: str) -> list[str]:
    """A phrase in Han characters (via taibun) or Tâi-lô -> toneless syllables."""
    if HAN.search(text):
        from taibun import Converter

        text = Converter(system="Tailo", format="strip").get(text)
    return [s for s in re.split(r"[^a-z]+", strip_tones(text)) if s]


def split_tailo(syllable: str) -> tuple[str, str]:
    """``tshing`` -> (``tsh``, ``ing``); syllabic m/ng have no initial."""
    s = syllable.lower()
    if s in ("m", "ng"):
        return "", s
    for ini in TAILO_INITIALS:
        if s.startswith(ini) and len(s) > len(ini):
            return ini, s[len(ini):]
    return "", s


def _core_final(final: str) -> str:
    f = final.replace("nn", "")
    if len(f) > 1 and f[-1] in "hptk" and f not in ("ng",):
        f = f[:-1]
    if f.endswith("m") and len(f) > 1:
        f = f[:-1] + "n"
    return f or final


def tailo_phones(syllable: str) -> list[str]:
    """One toneless Tâi-lô syllable -> Mandarin model phones."""
    ini, fin = split_tailo(syllable)
    core = _core_final(fin)
    if core not in FINAL_PHONES:
        # unknown spelling (loanwords): keep the longest known final prefix
        for n in range(len(core) - 1, 0, -1):
            if core[:n] in FINAL_PHONES:
                core = core[:n]
                break
        else:
            return []
    if not ini:
        if core in ZERO_INITIAL:
            onset, phones = ZERO_INITIAL[core]
            return [onset, *phones]
        if core[0] in VOWEL_ONSET:
            return [VOWEL_ONSET[core[0]], *FINAL_PHONES[core]]
        return list(FINAL_PHONES[core])
    first = INITIAL_PHONE[ini]
    if core.startswith("i") and core != "ir" and first in PALATAL:
        first = PALATAL[first]
    return [first, *FINAL_PHONES[core]]


class Lexicon:
    """The model's dictionary plus the fallbacks above."""

    def __init__(self, dict_path: Path) -> None:
        self.words: dict[str, str] = {}
        try:
            with open(dict_path, encoding="utf-8") as f:
                for line in f:
                    parts = line.split(None, 1)
                    if len(parts) == 2 and "(" not in parts[0]:
                        self.words.setdefault(parts[0], parts[1].strip())
        except (OSError, UnicodeDecodeError) as e:
            raise IvrError(f"cannot read dictionary: {e}", str(dict_path)) from None
        self.syllables = self._learn_syllables()

    def _learn_syllables(self) -> dict[str, str]:
        from pypinyin import Style, pinyin

        votes: dict[str, Counter] = defaultdict(Counter)
        for w, phones in self.words.items():
            if len(w) == 1 and HAN.match(w):
                py = pinyin(w, style=Style.NORMAL, strict=False)[0][0].replace("ü", "v")
                votes[py][phones] += 1
        return {py: c.most_common(1)[0][0] for py, c in votes.items()}

    def mandarin_phones(self, phrase: str) -> str:
        """Phones for a Mandarin phrase (Traditional or Simplified)."""
        return " ".join(self.mandarin_words(phrase))

    def mandarin_words(self, phrase: str) -> list[str]:
        """Per-word phones for a Mandarin phrase (Traditional or Simplified)."""
        from pypinyin import Style, lazy_pinyin

        from ivr.asr.text import to_traditional

        text = "".join(ch for ch in to_traditional(phrase) if HAN.match(ch) or ch.isalnum())
        out, i = [], 0
        while i < len(text):
            for n in range(min(MAX_WORD, len(text) - i), 0, -1):
                w = text[i:i + n]
                if w in self.words:
                    out.append(self.words[w])
                    i += n
                    break
            else:
                readings = lazy_pinyin(text[i], style=Style.NORMAL, errors="ignore")
                py = readings[0].replace("ü", "v") if readings else ""
                if py in self.syllables:
                    out.append(self.syllables[py])
                elif text[i].upper() + "." in self.words:  # spelled letters
                    out.append(self.words[text[i].upper() + "."])
                i += 1
        return out

    @staticmethod
    def taiwanese_phones(phrase: str) -> str:
        return " ".join(Lexicon.taiwanese_words(phrase))

    @staticmethod
    def taiwanese_words(phrase: str) -> list[str]:
        """Per-syllable phones for a Taiwanese phrase (Han characters or Tâi-lô)."""
        return [" ".join(ph) for s in tailo_syllables(phrase) if (ph := tailo_phones(s))]


# Extra readings for a Taiwanese phrase, one rule set at a time (not every
# combination: each variant is one more grammar word, and the search widens).
# * Tsiang-tsiu / Taipei forms of Tsuan-tsiu spellings: -ue -> -e (kue/ke 雞),
#   -ir -> -i (hîr/hî 魚), j- -> l- (jī/lī 二).
# * nasal vowels: Mandarin has none; the nearest is the vowel + n (sann -> "s an").
VARIANT_RULES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("tsiang-tsiu", ((r"ue(?=[hptk]?$)", "e"), (r"ir(?=[hptk]?$)", "i"), (r"^j", "l"))),
    ("nasal-n", ((r"(?<=[aeiou])nn(?=h?$)", "n"),)),
)


def taiwanese_variant_words(phrase: str) -> list[list[str]]:
    """Alternative per-syllable phone strings for a Taiwanese phrase, one per
    rule set that changes it (the main reading is ``Lexicon.taiwanese_words``)."""
    syllables = tailo_syllables(phrase)
    main = [" ".join(ph) for s in syllables if (ph := tailo_phones(s))]
    out: list[list[str]] = []
    for _, rules in VARIANT_RULES:
        changed = []
        for s in syllables:
            for pattern, repl in rules:
                s = re.sub(pattern, repl, s)
            changed.append(s)
        words = [" ".join(ph) for s in changed if (ph := tailo_phones(s))]
        if words and words != main and words not in out:
            out.append(words)
    return out


def with_variants(main: list[str], extra: list[list[str]], phones: frozenset[str]) -> list[list[str]]:
    """``main`` then each extra reading not already there whose phones the model
    has; nothing when there is no main reading."""
    if not main:
        return []
    out = [main]
    for v in extra:
        if v and v not in out and all(p in phones for w in v for p in w.split()):
            out.append(v)
    return out
