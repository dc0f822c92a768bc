"""Small pieces of the pocketsphinx engine: the model's phone list, the JSGF
text of a flat choice, and a second decode of a turn by another grammar."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ivr.asr.confidence import (
    LOOP_MANDARIN,
    mandarin_phone_sequences,
    phone_bigram_arpa,
    taiwanese_phone_sequences,
    taiwanese_syllable_counts,
    taiwanese_words,
)
from ivr.asr.phone_learning import learned_syllable_phones
from ivr.errors import ModelCorruptError


def read_mdef_phones(hmm: Path) -> frozenset[str]:
    """The model's base phones, read from the binary mdef: after the text
    header come the CI phone names as one run of NUL-terminated strings."""
    try:
        data = (hmm / "mdef").read_bytes()
    except OSError as e:
        raise ModelCorruptError(f"cannot read mdef: {e}", "model pocketsphinx-zh") from None
    marker = b"END FILE FORMAT DESCRIPTION"
    start = data.find(marker)
    if start < 0:
        raise ModelCorruptError("mdef is not a binary sphinx model definition", str(hmm / "mdef"))
    run: list[str] = []
    for tok in data[start + len(marker):start + 200000].split(b"\0"):
        word = tok[-12:].decode("latin-1")
        if tok and len(tok) <= 12 and all(c.isalnum() or c in "+_" for c in word):
            run.append(word)
        elif len(run) >= 5:
            break
        else:
            run = [word] if tok and word[-1:].isalnum() else []
    phones = frozenset(w for w in run if not w.startswith("+"))
    if len(phones) < 10:
        raise ModelCorruptError("no phone list found in mdef", str(hmm / "mdef"))
    return phones


def read_model_cmninit(hmm: Path) -> str:
    """The model's own initial cepstral mean (feat.params ``-cmninit``)."""
    try:
        words = (hmm / "feat.params").read_text(encoding="utf-8").split()
    except OSError as e:
        raise ModelCorruptError(f"cannot read feat.params: {e}", str(hmm)) from None
    return words[words.index("-cmninit") + 1] if "-cmninit" in words[:-1] else "8.0"


def loop_lm(dictionary: Mapping[str, str], phone_set: frozenset[str], learned: bool) -> str:
    """The free phone loop's bigram (ARPA): Taiwanese syllables (as the learned
    table or the rules spell them) and, weighted by ``LOOP_MANDARIN``, the
    Mandarin dictionary's words."""
    taiwanese = taiwanese_phone_sequences(taiwanese_syllable_counts(), learned_syllable_phones if learned else None)
    seqs = list(taiwanese)
    if LOOP_MANDARIN:
        seqs += mandarin_phone_sequences(dictionary, LOOP_MANDARIN * sum(n for _, n in taiwanese))
    return phone_bigram_arpa(seqs, sorted(phone_set))


def pick_decoys(n: int, pronounce: Callable[[str], list[str]], phone_set: frozenset[str]) -> list[list[str]]:
    """A fixed sample of ``n`` Taiwanese words (taibun's word list, 2-4
    syllables), each as ``pronounce`` spells it, leaving out any the model
    cannot say."""
    import random

    words = sorted(w for w in taiwanese_words() if 2 <= len(w.split()) <= 4)
    pick = random.Random(0).sample(words, min(n, len(words)))
    return [c for w in pick if (c := pronounce(w)) and all(p in phone_set for x in c for p in x.split())]


def choice_jsgf(words: Sequence[str]) -> str:
    """A grammar that is one of ``words``."""
    return "#JSGF V1.0;\ngrammar ivr;\npublic <turn> = " + " | ".join(words) + ";\n"


class GrammarDecoder(Protocol):
    """What ``redecode_score`` uses of a pocketsphinx ``Decoder``."""

    def add_jsgf_string(self, name: str, jsgf: str) -> Any: ...
    def add_word(self, word: str, phones: str, update: bool = True) -> Any: ...
    def lookup_word(self, word: str) -> str | None: ...
    def activate_search(self, name: str) -> Any: ...
    def get_cmn(self, update: bool = False) -> str: ...
    def set_cmn(self, cmn: str) -> Any: ...
    def start_utt(self) -> Any: ...
    def process_raw(self, data: bytes, no_search: bool = False, full_utt: bool = False) -> Any: ...
    def end_utt(self) -> Any: ...
    def hyp(self) -> Any: ...
    def get_logmath(self) -> Any: ...


def redecode_score(decoder: GrammarDecoder, search: str, words: Mapping[str, str], audio: np.ndarray,
                   cmn_start: str, reaches_end: Callable[[GrammarDecoder], bool], known: set[str]) -> float | None:
    """The best score (log base 1.0001) of ``audio`` (8 kHz int16, the turn just
    decoded) under a choice of ``words`` (word -> phones), decoded again from
    the cepstral mean the turn started with (``cmn_start``; "" keeps the
    decoder's). Meant for a decoder of its own: the turn's decoders must not
    hear the audio twice. None when no path reaches the end of the turn. The
    search is added once and kept (``search`` names it; ``known`` holds the
    names already added)."""
    if search not in known:
        for w, phones in words.items():
            if decoder.lookup_word(w) is None:
                decoder.add_word(w, phones, False)
        decoder.add_jsgf_string(search, choice_jsgf(list(words)))
        known.add(search)
    decoder.activate_search(search)
    if cmn_start:
        decoder.set_cmn(cmn_start)
    decoder.start_utt()
    decoder.process_raw(np.asarray(audio).astype("<i2").tobytes(), False, False)
    decoder.end_utt()
    hyp = decoder.hyp()
    if hyp is None or hyp.score <= 0 or not reaches_end(decoder):
        return None
    return float(decoder.get_logmath().log(hyp.score))
