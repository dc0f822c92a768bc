"""Closed-set steps decided with evidence from the audio, not from one transcript.

Whisper can score a *given* phrase against a turn: CTranslate2's
``Whisper.align`` runs the decoder teacher-forced over the phrase's tokens and
returns each token's probability. ``WhisperEngine.score`` does that for all of
a step's expected phrases in one batch on one encoder pass; this module holds
the parts that do not touch the model: which phrases to score, how a phrase's
token probabilities become one score, and how the margin between the best
and the next phrase becomes a calibrated confidence.

Score = mean log-probability per token (length-normalised, so a long phrase
is not punished for its length). No end-of-text token is scored: Whisper puts
almost no probability on ending right after a phrase (it wants punctuation or
the caller's next words), which would swamp the phrase itself. So a phrase
that matches only the *start* of what was said scores well: "不是" for
"不是，我是要查餘額" — what a closed-set step wants, where the answer comes first.

Measured (bench/whisper_rescore.py, Whisper base, synthesized colloquial
answers, 240 test turns): the top phrase is right less often than the NLU of
the free transcript (menu 46 % vs 91 %: callers do not start with the key
phrase; yes/no with a value 86 % vs 78 %, but a hedge that must be rejected
always gets some top phrase), and "free transcript's value, else a confident
top phrase" changed the understood rate by at most one turn in 40. So the
ranking is offered (``Transcript.alternatives``, engine option ``rescore``)
but off by default and not used by the dialog.

Confidence of an alternative = ``sigmoid(slope * margin + intercept)``, where
margin = its score minus the best *other* phrase's score (positive only for
the winner). ``DEFAULT_CALIBRATION`` was fitted by bench/whisper_rescore.py on
synthesized answers (Kokoro and espeak-ng voices; clean, telephone and 10 dB
noise) from the understanding set's *dev* split; its figures are reported on
the test split.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.frames import Alternative

# Above this many expected phrases a step's set is reduced to its core
# phrases (those containing no other): scoring costs one decoder pass per
# phrase, and the menu's 108 training phrases would cost seconds per turn.
MAX_PHRASES = 32
# log of the smallest token probability counted: one impossible token must
# not make a score -inf (it would hide how well the rest of the phrase fits)
MIN_LOGPROB = math.log(1e-6)


@dataclass(frozen=True, slots=True)
class MarginCalibration:
    """Logistic map from a score margin (mean log-prob per token) to P(right)."""

    slope: float
    intercept: float

    def confidence(self, margin: float) -> float:
        z = self.slope * margin + self.intercept
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


# fitted by bench/whisper_rescore.py on 120 dev turns (its JSON: "calibration"); on
# 240 test turns the top phrase was right in every case at confidence >= 0.7
# (12-38 % of yes/no turns), but it never reaches 0.7 on colloquial menu answers
DEFAULT_CALIBRATION = MarginCalibration(slope=0.916, intercept=-0.775)


def candidates(expected: Sequence[str], limit: int = MAX_PHRASES) -> list[str]:
    """The phrases worth scoring, in the step's order, without duplicates.

    Up to ``limit`` phrases are all scored. A longer list (an intent menu's
    training phrases) keeps its core phrases, those that contain no other
    (查餘額, not 我想查餘額), shortest first, up to ``limit``."""
    phrases = list(dict.fromkeys(p.strip() for p in expected if p and p.strip()))
    if len(phrases) <= limit:
        return phrases
    core = [p for p in phrases if not any(q != p and q in p for q in phrases)]
    keep = set(sorted(core, key=len)[:limit])
    return [p for p in core if p in keep]


def phrase_score(token_probs: Sequence[float]) -> float:
    """Mean log-probability per token; -inf-safe (see ``MIN_LOGPROB``)."""
    if not token_probs:
        return MIN_LOGPROB
    return min(0.0, sum(max(MIN_LOGPROB, math.log(p)) if p > 0 else MIN_LOGPROB for p in token_probs)
               / len(token_probs))


def rank(scored: Sequence[tuple[str, float]],
         calibration: MarginCalibration = DEFAULT_CALIBRATION) -> tuple[Alternative, ...]:
    """``(phrase, score)`` pairs -> Alternatives, best first, each with its
    calibrated confidence. A lone phrase has no margin: confidence 0."""
    order = sorted(range(len(scored)), key=lambda i: -scored[i][1])  # stable: ties keep the step's order
    ranked = [scored[i] for i in order]
    out = []
    for i, (text, score) in enumerate(ranked):
        others = [s for j, (_, s) in enumerate(ranked) if j != i]
        conf = calibration.confidence(score - max(others)) if others else 0.0
        out.append(Alternative(text=text, score=min(0.0, float(score)), confidence=conf))
    return tuple(out)
