"""Whisper's n-best at a number step (issue 11).

A number step's answer has a validity test of its own (the digit count of a PIN
or account, a Taiwan ID's checksum, a date that exists, an amount that parses),
so the beam's next-best transcripts are worth having: the dialog reads them in
order when the best gives no valid value (``UserInput.alternatives``). The
recognizer asks for them (``Recognizer.hypotheses``) only at number steps; one
beam search gives them all, at the cost of a wider beam."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ivr.frames import Alternative

# transcripts a number step may ask of one beam search
MAX_HYPOTHESES = 8


def next_best(hyps: Sequence[tuple[str, float]], best: str,
              answer: Callable[[str], str]) -> tuple[Alternative, ...]:
    """The beam's other transcripts ((raw text, length-normalised log-probability))
    as alternatives, best first. ``answer`` cleans a raw transcript as the best one
    was cleaned, "" for none (a loop, the prompt read back); no transcript twice,
    and never the best one again."""
    seen = {best}
    out = []
    for raw, score in sorted(hyps, key=lambda h: -h[1]):
        text = answer(raw)
        if not text or text in seen:
            continue
        seen.add(text)
        logp = min(0.0, score) if math.isfinite(score) else -10.0
        out.append(Alternative(text, logp, math.exp(logp)))
    return tuple(out)
