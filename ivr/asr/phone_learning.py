"""Tâi-lô -> Mandarin phone mapping learned from real Taiwanese speech.

The hand-written mapping (``ivr.asr.pronounce.tailo_phones``) guesses the
nearest Mandarin phones for each Taiwanese initial and final. Here the audio
chooses instead: each training sentence is decoded with a grammar that has,
at every syllable, the syllable's alternative renderings (every candidate
initial x every candidate final below), so the Viterbi path picks the
rendering the acoustic model finds closest. Votes are counted per Tâi-lô
initial and per final (with its stop coda / nasalisation, backing off to the
bare final when rare), and the winner replaces the hand-written choice when
it won clearly. The result is a small table (``ivr.asr.tailo_learned``)
that applies to any syllable, so it generalises to phrases never recorded.

Run by ``python bench/taiwanese_learn.py`` on the dev half of the phrase test
only (``ivr.asr.phrase_eval``)."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import product

import numpy as np

from ivr.asr.pronounce import PALATAL, _core_final, split_tailo, tailo_phones
from ivr.asr.resampling import resample
from ivr.errors import IvrError

# candidate Mandarin initials per Tâi-lô initial (the first is the hand-written one)
INITIAL_CANDIDATES: dict[str, tuple[str, ...]] = {
    "p": ("b", "p"), "ph": ("p", "b"), "b": ("b", "m", "p"), "m": ("m", "b"),
    "t": ("d", "t"), "th": ("t", "d"), "n": ("n", "l"), "l": ("l", "d", "n"),
    "k": ("g", "k"), "kh": ("k", "g", "h"), "g": ("g", "k", "h"), "ng": ("n", "g"),
    "h": ("h", "f"), "ts": ("z", "zh", "c"), "tsh": ("c", "ch", "z"), "ch": ("z", "zh"),
    "chh": ("c", "ch"), "s": ("s", "sh"), "j": ("z", "l", "r"),
}
# candidate phone strings per bare final (the first is the hand-written one)
FINAL_CANDIDATES: dict[str, tuple[tuple[str, ...], ...]] = {
    "a": (("a",), ("e",), ("ao",)), "ai": (("ai",), ("a",), ("ei",)), "au": (("ao",), ("ou",), ("a",)),
    "an": (("an",), ("ang",), ("en",)), "ang": (("ang",), ("an",), ("eng",)),
    "e": (("ei",), ("e",), ("ie",), ("ai",)), "en": (("en",), ("in",)),
    "o": (("o",), ("uo",), ("e",), ("ou",)), "oo": (("o",), ("ou",), ("u",), ("uo",)),
    "ong": (("ong",), ("ang",), ("eng",)), "on": (("ong",), ("an",)),
    "i": (("i",), ("ib",), ("if",), ("ie",)), "ia": (("ia",), ("ie",), ("a",)),
    "iau": (("iao",), ("ao",), ("iu",)), "ian": (("ian",), ("ie",), ("an",)),
    "iang": (("iang",), ("ang",), ("iong",)), "io": (("i", "o"), ("ie",), ("iu",), ("iao",)),
    "iong": (("iong",), ("ong",), ("iang",)), "iu": (("iu",), ("ou",), ("u",)),
    "in": (("in",), ("ing",), ("en",)), "ing": (("ing",), ("in",), ("eng",)),
    "ir": (("if",), ("i",), ("e",)), "er": (("e",), ("er",)),
    "u": (("u",), ("ou",), ("o",)), "ua": (("ua",), ("a",), ("uo",)), "uai": (("uai",), ("ai",)),
    "uan": (("uan",), ("an",), ("uang",)), "uang": (("uang",), ("uan",)),
    "ue": (("u", "ei"), ("ui",), ("ei",), ("uo",)), "ui": (("ui",), ("ei",), ("u",)),
    "un": (("un",), ("en",), ("ong",)), "m": (("m",), ("m", "u")), "ng": (("eng",), ("ang",), ("ong",)),
    "ee": (("ei",), ("e",)), "ie": (("ie",), ("i",)),
}
ZERO_ONSET = {"i": "y", "u": "w", "a": "as", "e": "es", "o": "os"}
MIN_VOTES = 3       # fewer tokens than this: keep the hand-written choice
MIN_SHARE = 0.4     # the winner must take at least this share of the votes
BEAMS = ((1e-60, 1e-40), (1e-100, 1e-80))


def final_key(syllable: str) -> str:
    """The final with its coda and nasalisation (``tsiah`` -> ``iah``)."""
    return split_tailo(syllable)[1]


def _onset(first: str) -> str:
    return ZERO_ONSET.get(first[0], "")


def render(initial: str, final: tuple[str, ...]) -> list[str]:
    """One Mandarin rendering: a candidate initial (``""`` for none) + final phones."""
    if not initial:
        onset = _onset(final[0])
        return [onset, *final] if onset else list(final)
    if final[0].startswith("i") and final[0] != "if" and initial in PALATAL:
        initial = PALATAL[initial]
    return [initial, *final]


def candidates(syllable: str) -> list[tuple[str, int, int, list[str]]]:
    """(key, initial choice, final choice, phones) for every rendering of ``syllable``;
    the hand-written rendering ``tailo_phones`` always comes first (choices -1, -1)."""
    base = tailo_phones(syllable)
    ini, fin = split_tailo(syllable)
    core = _core_final(fin)
    out: list[tuple[str, int, int, list[str]]] = [(syllable, -1, -1, base)] if base else []
    inis = INITIAL_CANDIDATES.get(ini, ("",)) if ini else ("",)
    fins = FINAL_CANDIDATES.get(core, ())
    seen = {" ".join(base)}
    for (a, i), (b, f) in product(enumerate(inis), enumerate(fins)):
        if i in ("zh", "ch", "sh", "r") and f[0].startswith("i") and f[0] != "if":
            continue
        ph = render(i, f)
        key = " ".join(ph)
        if key not in seen:
            seen.add(key)
            out.append((syllable, a, b, ph))
    return out


@dataclass
class Votes:
    initials: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    finals: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    sentences: int = 0
    syllables: int = 0


def vote_sentence(engine, samples: np.ndarray, rate: int, syllables: list[str], votes: Votes) -> bool:
    """Decode one sentence choosing among each syllable's renderings; add the
    chosen initials and finals to ``votes``. False if no full path was found."""
    from ivr.asr.sphinx import MODEL_RATE

    x = resample(np.asarray(samples, dtype=np.int16), rate, MODEL_RATE)
    names: dict[str, str] = {}
    slots: list[tuple[str, dict[str, tuple[int, int]]]] = []
    for s in syllables:
        cands = [c for c in candidates(s.lower()) if all(p in engine.phone_set for p in c[3])]
        if not cands:
            return False
        words: dict[str, tuple[int, int]] = {}
        for _, i, f, ph in cands:
            key = " ".join(ph)
            names.setdefault(key, f"w{len(names)}")
            words.setdefault(names[key], (i, f))
        slots.append((s.lower(), words))
    jsgf = "#JSGF V1.0;\ngrammar learn;\npublic <s> = " + " ".join(
        "(" + " | ".join(w) + ")" for _, w in slots) + ";\n"
    for beam, wbeam in BEAMS:
        dec = engine.decoder(beam=beam, wbeam=wbeam, bestpath=False)
        for key, name in names.items():
            dec.add_word(name, key, update=False)
        dec.add_jsgf_string("learn", jsgf)
        dec.activate_search("learn")
        dec.start_utt()
        dec.process_raw(x.astype("<i2").tobytes(), False, True)
        dec.end_utt()
        got = [sg.word for sg in (dec.seg() or []) if sg.word.startswith("w")]
        if len(got) != len(slots):
            continue
        for (syl, words), word in zip(slots, got, strict=True):
            i, f = words[word]
            ini, fin = split_tailo(syl)
            inis = INITIAL_CANDIDATES.get(ini, ("",))
            fins = FINAL_CANDIDATES.get(_core_final(fin), ((),))
            # the hand-written rendering (-1) counts as the first candidate of each
            if ini:
                votes.initials[ini][inis[max(i, 0)]] += 1
            votes.finals[fin][fins[max(f, 0)]] += 1
        votes.sentences += 1
        votes.syllables += len(slots)
        return True
    return False


def learn(votes: Votes) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Winning initials and finals (only where they differ from the hand-written
    choice and won clearly; a final with too few tokens backs off to its bare form)."""
    inis: dict[str, str] = {}
    for ini, ci in votes.initials.items():
        (phone, n), total = ci.most_common(1)[0], sum(ci.values())
        if total >= MIN_VOTES and n / total >= MIN_SHARE and phone != INITIAL_CANDIDATES.get(ini, ("",))[0]:
            inis[ini] = phone
    by_core: dict[str, Counter] = defaultdict(Counter)
    for fin, c in votes.finals.items():
        by_core[_core_final(fin)].update(c)
    fins: dict[str, tuple[str, ...]] = {}
    keys = set(votes.finals) | set(by_core)
    for key in sorted(keys):
        c = votes.finals.get(key) or Counter()
        if sum(c.values()) < MIN_VOTES:
            c = by_core.get(_core_final(key), Counter())
        if not c:
            continue
        (best, n), total = c.most_common(1)[0], sum(c.values())
        default = FINAL_CANDIDATES.get(_core_final(key), ((),))[0]
        if total >= MIN_VOTES and n / total >= MIN_SHARE and best != default:
            fins[key] = best
    return inis, fins


def learned_phones(syllable: str, initials: Mapping[str, str],
                   finals: Mapping[str, tuple[str, ...]]) -> list[str]:
    """``tailo_phones`` with the learned initial and final substituted."""
    base = tailo_phones(syllable)
    if not base:
        return base
    ini, fin = split_tailo(syllable)
    new_fin = finals.get(fin) or finals.get(_core_final(fin))
    new_ini = initials.get(ini) if ini else None
    if new_fin is None and new_ini is None:
        return base
    if new_fin is None:
        new_fin = tuple(base[1:]) if ini else None
    if new_fin is None:
        return base
    if ini:
        return render(new_ini or INITIAL_CANDIDATES.get(ini, (base[0],))[0], new_fin)
    return render("", new_fin)


def learn_from(engine, sentences: Iterable[tuple[np.ndarray, int, list[str]]],
               progress: Callable[[str], None] | None = None) -> Votes:
    votes = Votes()
    for k, (x, rate, syllables) in enumerate(sentences):
        try:
            ok = vote_sentence(engine, x, rate, syllables, votes)
        except IvrError:
            ok = False
        if progress:
            progress(f"sentence {k}: {'voted' if ok else 'no path'}")
    return votes


def learned_words(phrase: str) -> list[str]:
    """Per-syllable phones for a Taiwanese phrase with the learned table
    (``ivr.asr.tailo_learned``) over the hand-written mapping."""
    from ivr.asr.pronounce import tailo_syllables
    from ivr.asr.tailo_learned import FINALS, INITIALS

    return [" ".join(ph) for s in tailo_syllables(phrase) if (ph := learned_phones(s, INITIALS, FINALS))]


def learned_syllable_phones(syllable: str) -> list[str]:
    """One toneless Tâi-lô syllable's phones with the learned table."""
    from ivr.asr.tailo_learned import FINALS, INITIALS

    return learned_phones(syllable, INITIALS, FINALS)
