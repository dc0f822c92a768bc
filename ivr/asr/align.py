"""Forced alignment of Taiwanese speech with the pocketsphinx engine itself:
a sentence's toneless Tâi-lô syllables -> where each syllable starts and ends.

Used to cut real sentences into word- and phrase-level clips for measuring
(``ivr.asr.phrase_eval``); the same acoustic model and Tâi-lô -> phone mapping
as recognition, so the cuts are where the recognizer itself hears them.

The sentence is a one-path JSGF grammar (silence may fall between syllables).
pocketsphinx's alignment mode and its lattice best path were both measured
to drop the last syllables of some of the 33 real sentences; the plain
Viterbi path of the grammar search does not."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.asr.pronounce import tailo_phones
from ivr.asr.resampling import resample
from ivr.errors import IvrError

FRAME_RATE = 100  # pocketsphinx frames per second
ALIGN_BEAMS = ((1e-60, 1e-40), (1e-100, 1e-80))


@dataclass(frozen=True, slots=True)
class Syllable:
    text: str      # toneless Tâi-lô
    start: float   # seconds
    end: float     # seconds (exclusive)


def align_syllables(engine, samples: np.ndarray, rate: int, syllables: list[str]) -> list[Syllable]:
    """Each syllable's time span in ``samples``; raises IvrError when the
    sentence cannot be aligned even with wide beams. ``engine`` is a
    ``SphinxEngine`` (its model, phone set and decoder settings)."""
    from ivr.asr.sphinx import MODEL_RATE

    x = resample(np.asarray(samples, dtype=np.int16), rate, MODEL_RATE)
    words: list[str] = []
    names: dict[str, str] = {}
    for s in syllables:
        s = s.lower()
        if s not in names:
            phones = tailo_phones(s)
            if not phones or any(p not in engine.phone_set for p in phones):
                raise IvrError(f"syllable {s!r} has no pronunciation on this model", "asr align")
            names[s] = f"s{len(names)}"
        words.append(names[s])
    if not words:
        raise IvrError("nothing to align", "asr align")
    back = {v: k for k, v in names.items()}
    jsgf = "#JSGF V1.0;\ngrammar align;\npublic <s> = " + " ".join(words) + ";\n"
    for beam, wbeam in ALIGN_BEAMS:
        dec = engine.decoder(beam=beam, wbeam=wbeam, bestpath=False)
        for s, name in names.items():
            dec.add_word(name, " ".join(tailo_phones(s)), update=False)
        dec.add_jsgf_string("align", jsgf)
        dec.activate_search("align")
        dec.start_utt()
        dec.process_raw(x.astype("<i2").tobytes(), False, True)
        dec.end_utt()
        got = [sg for sg in (dec.seg() or []) if sg.word in back]
        if [sg.word for sg in got] == words:
            return [Syllable(back[sg.word], sg.start_frame / FRAME_RATE, (sg.end_frame + 1) / FRAME_RATE)
                    for sg in got]
    raise IvrError(f"could not align {len(words)} syllables to {x.size / MODEL_RATE:.1f} s of audio", "asr align")
