"""When a caller's turn is over: the per-step settings, and whether what was
heard so far already completes the step's answer.

A fixed end-of-turn silence is most of what a caller waits for a reply on a
closed-set step (issue 14: 0.7 s of a 0.9 s reply at the menu). When what was
heard in the caller's first short pause already is the whole answer (the PIN
has all its digits, a clear yes/no, a menu choice above threshold, a date that
parses) the session ends the turn after ``complete_ms``; otherwise it waits
``silence_ms`` as before. Free speech has no complete answer: it always waits.

``answer_complete`` asks the step's own extraction (the one that will decide
the turn), never a looser test, so a turn ended early is one the dialog
accepts. A variable-length answer (an account number of 4..12 digits) is
complete only at its longest: a caller reading digits in groups is not cut
off after the first group.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ivr.dialog.extract import extract_value
from ivr.dialog.models import CollectStep
from ivr.log import get_logger

if TYPE_CHECKING:
    from ivr.dialog.loader import FlowSet
    from ivr.dialog.state import DialogState

log = get_logger(__name__)


class TurnEnd(NamedTuple):
    complete_ms: int  # 0: never end early
    silence_ms: int


# by step type: (end early after this pause when complete, end after this pause anyway).
# amount is off: "一千 … 五百" is a complete amount after its first half.
DEFAULTS: dict[str, TurnEnd] = {
    "yes_no": TurnEnd(250, 500), "intent": TurnEnd(250, 700), "digits": TurnEnd(250, 1500),
    "taiwan_id": TurnEnd(250, 1500), "date": TurnEnd(300, 1200), "amount": TurnEnd(0, 1000),
    "free_text": TurnEnd(0, 1000),
}

# A menu choice ends the turn early only this sure. The classifier accepts bare
# openings at the step's own 0.45 (我要 0.74, 我要辦 0.63, 我要查 0.52 as
# complaint, the first half of 我要…查餘額), while whole requests score 0.87+
# (查餘額 0.99, 我的卡不見了 0.87): a caller pausing after 我要 is not cut off.
COMPLETE_INTENT = 0.85


def turn_end(step: CollectStep, kind: str) -> TurnEnd:
    """The step's own settings over its type's defaults. ``kind`` is what is
    being asked (``yes_no`` for a confirmation of any step: its own settings
    are for its value, not for the yes/no)."""
    base = DEFAULTS[kind]
    if kind != step.type:
        return base
    eot = step.end_of_turn
    silence = (eot.silence_ms if eot and eot.silence_ms else None) or step.end_silence_ms or base.silence_ms
    complete = eot.complete_ms if eot is not None and eot.complete_ms is not None else base.complete_ms
    return TurnEnd(min(complete, silence), silence)


def answer_complete(fs: FlowSet, st: DialogState, nlu: Any, text: str) -> bool:
    """Would ``text``, heard as the whole turn now, be taken as the current
    step's answer (accepted or a global command; not re-asked, not a "did you
    mean")? Pure; never raises (an NLU failure means "not complete": wait)."""
    if st.ended or not text.strip() or st.flow is None or st.step is None:
        return False
    if st.waiting not in ("input", "confirm", "reenter"):
        return False
    try:
        step = fs.step(st.flow, st.step)
        if not isinstance(step, CollectStep):
            return False
        if nlu.commands(text, st.language):
            return True
        if st.waiting == "confirm" or step.type == "yes_no":
            return _clear_yes_no(nlu, text, st.language)
        if step.type in ("free_text", "amount") and not (step.end_of_turn and step.end_of_turn.complete_ms):
            return False
        if step.type == "intent":  # the early end asks for more than the step accepts: see COMPLETE_INTENT
            step = step.model_copy(update={"min_confidence": max(step.min_confidence, COMPLETE_INTENT)})
        value, _ = extract_value(step, text, "", st.language, nlu)
    except Exception as e:  # a broken matcher only costs the early end, never the turn
        log.warning("end-of-turn check failed at %s/%s: %s", st.flow, st.step, e)
        return False
    if value is None:
        return False
    if step.type == "digits":
        return len(str(value)) == step.length_range()[1]
    return True


def _clear_yes_no(nlu: Any, text: str, language: str) -> bool:
    if hasattr(nlu, "understand"):
        u = nlu.understand("yes_no", text, language)
        return u.outcome == "accept" and isinstance(u.value, bool)
    return isinstance(nlu.extract("yes_no", text, language), bool)
