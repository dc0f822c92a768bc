"""Accept, confirm or reject a spoken answer at a closed-set step that is not
protective (a menu, the language choice, a plain yes/no), from three signals:
the recognizer's confidence in its transcript (``UserInput.confidence``), the
NLU's confidence in its reading, and for a menu the margin of the best intent
over the runner-up.

- **accept**: all three clear their floors: act on it, as before.
- **confirm**: the NLU read a value but the turn is not sure enough to act on:
  a menu asks what it heard ("請問您是要查詢餘額嗎？" from the intent's display
  name); yes acts, no asks the menu again. A yes/no is not confirmed with a
  second yes/no (a "不是" to "您是說沒有嗎？" would answer the wrong question):
  it says what it heard and asks its own question again.
- **reject**: nothing read, or a transcript the recognizer is too unsure of to
  even ask about: the step's re-ask, saying what it heard when it heard words.

Every low-confidence turn counts as a miss of the step; when the misses are
spent and any of them was unsure, the caller is asked once for keys (a menu
with keys, a yes/no) before the step's ``on_exhausted``. Never a silent guess.

The floors (``FLOORS``) are chosen on the dev split of the understanding set
heard through Whisper (bench/closed_set_confidence.py, cost in caller turns) and
reported on its test split. They are on Whisper's confidence scale, so they
apply to Mandarin turns; a Taiwanese grammar recognizer rejects by its own
calibration (ivr/asr/confidence.py) and the nan-TW policy reads every menu
choice back already. Reference text (``ivr chat``) has confidence 1.0."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ivr.dialog.models import CollectStep
from ivr.dialog.protect import HEARD_MAX_CHARS, heard_back, question
from ivr.frames import UserInput
from ivr.log import get_logger

if TYPE_CHECKING:
    from ivr.dialog.executor import _Run

log = get_logger(__name__)

Outcome = Literal["accept", "confirm", "reject"]
KINDS = ("intent", "yes_no")
# the languages whose recognizer the floors were measured on (see the module doc)
LANGUAGES = ("zh-TW",)


@dataclass(frozen=True)
class Floors:
    accept_asr: float      # the recognizer at least this sure to act on its transcript
    accept_nlu: float      # the NLU at least this sure of its reading
    accept_margin: float   # a menu: best intent over the runner-up by at least this
    confirm_asr: float     # below this the transcript is not worth a question: re-ask


# Chosen on dev by bench/closed_set_confidence.py (bench/results/closed_set_confidence.json:
# the lowest expected cost in caller turns over a grid). A menu answer the NLU read is
# always worth a question (confirm_asr 0: naming the service costs one turn); a yes/no
# heard below 0.2 is only said back. accept_nlu 0.45 is the menu's own accept line.
FLOORS: dict[str, Floors] = {
    "intent": Floors(accept_asr=0.35, accept_nlu=0.45, accept_margin=0.4, confirm_asr=0.0),
    "yes_no": Floors(accept_asr=0.35, accept_nlu=0.45, accept_margin=0.0, confirm_asr=0.2),
}


@dataclass(frozen=True)
class Reading:
    """What the NLU made of one transcript, with the recognizer's confidence."""
    value: Any           # None: nothing read
    outcome: str         # the NLU's own outcome (accept / confirm / reject)
    nlu: float
    margin: float
    asr: float
    heard: str = ""      # the key phrase matched by sound, if that is how it was read


class Understands(Protocol):
    def understand(self, kind: str, text: str, language: str = "zh-TW",
                   candidates: Sequence[str] | None = None, min_confidence: float = 0.45,
                   **params: Any) -> Any: ...


def reading(nlu: Understands, kind: str, text: str, language: str, candidates: Sequence[str] | None,
            asr: float, min_confidence: float = 0.45) -> Reading:
    if kind == "intent":
        u = nlu.understand("intent", text, language, candidates=candidates, min_confidence=min_confidence)
    else:
        u = nlu.understand(kind, text, language)
    return Reading(u.value, u.outcome, float(u.confidence), float(getattr(u, "margin", 1.0)), float(asr),
                   str(getattr(u, "heard", "") or ""))


def decide(r: Reading, floors: Floors) -> Outcome:
    """Pure: the outcome of one reading under ``floors``."""
    if r.value is None or r.outcome == "reject":
        return "reject"
    if r.asr < floors.confirm_asr:
        return "reject"
    if r.outcome == "confirm":
        return "confirm"
    if r.asr >= floors.accept_asr and r.nlu >= floors.accept_nlu and r.margin >= floors.accept_margin:
        return "accept"
    return "confirm"


# ------------------------------------------------------------ in the dialog
def applies(run: _Run, step: CollectStep, ev: UserInput) -> bool:
    """A spoken answer at a non-protective menu or yes/no, in a language the floors were measured in."""
    return (step.type in KINDS and not step.protective and bool(ev.text.strip()) and not ev.dtmf
            and run.st.language in LANGUAGES and hasattr(run.d.nlu, "understand"))


def heard(run: _Run, text: str) -> str:
    """The transcript as said back (normalized, at most HEARD_MAX_CHARS)."""
    nlu = run.d.nlu
    clean = nlu.normalize(text) if hasattr(nlu, "normalize") else text.strip()
    return "".join(c for c in clean if c not in "{}")[:HEARD_MAX_CHARS]


def screen(run: _Run, step: CollectStep, ev: UserInput, turn: dict[str, Any]) -> tuple[bool, Any]:
    """(True, value) to go on with the value; (False, None) when the turn was
    handled here (a confirmation asked, or the step asked again)."""
    candidates = list(step.intents) or [v for v in step.dtmf.values() if isinstance(v, str)]
    try:
        r = reading(run.d.nlu, step.type, ev.text, run.st.language, candidates if step.type == "intent" else None,
                    ev.confidence, step.min_confidence)
    except Exception:  # an NLU failure on one turn is a no-match, not a dropped call
        log.exception("closed-set understanding failed", extra={"call_id": run.st.call_id})
        run.nomatch(step)
        return False, None
    outcome = decide(r, FLOORS[step.type])
    turn.update(decision=outcome, confidence=round(r.nlu, 3), asr_confidence=round(r.asr, 3))
    if outcome == "accept":
        return True, r.value
    run.st.unsure += 1
    if outcome == "confirm" and step.type == "intent" and question(run, step, r.value) is not None:
        turn["heard"] = r.value
        run.st.pending = r.value
        run.say(question(run, step, r.value), run.key("confirm"))
        run.listen(step, confirm=True)
        return False, None
    if r.value is not None and not step.secret:  # say what was heard, then the step's own question
        said = heard(run, ev.text)
        turn["heard_unsure"] = said
        run.nomatch(step, error=heard_back(said))
        return False, None
    run.st.unsure -= 1  # nothing read: an ordinary no-match
    run.nomatch(step)
    return False, None


# commands that move the caller somewhere: said aloud but unsure, they are asked again,
# not acted on ("repeat" is harmless and always done; a key is always sure)
MOVING_COMMANDS = ("agent", "main_menu", "lang_zh", "lang_nan")


def unsure_command(run: _Run, step: CollectStep, ev: UserInput, cmd: str, turn: dict[str, Any]) -> bool:
    """A mid-call command heard by a recognizer too unsure to act on (a language
    switch, back to the menu, to an agent): True when the step asked again,
    saying what it heard. The language step weighs its own choice
    (``screen_language``); reference text and keys have confidence 1.0."""
    if cmd not in MOVING_COMMANDS or ev.dtmf or not ev.text.strip() or run.st.language not in LANGUAGES:
        return False
    if run.st.waiting == "input" and step.type == "intent" and cmd.startswith("lang_"):
        return False  # the language choice itself: screen_language
    if float(ev.confidence) >= FLOORS["intent"].accept_asr:
        return False
    turn.update(decision="reject", asr_confidence=round(float(ev.confidence), 3))
    run.st.unsure += 1
    said = heard(run, ev.text)
    turn["heard_unsure"] = said
    run.nomatch(step, error=heard_back(said))
    return True


def screen_language(run: _Run, step: CollectStep, ev: UserInput, value: str, turn: dict[str, Any]) -> bool:
    """The language choice said aloud (a command the step takes as its answer):
    True to take it; False when it was asked about ("請問您是要用台語嗎？") or
    asked again. The words are a command's, so only the recognizer's confidence
    is weighed."""
    r = Reading(value, "accept", 1.0, 1.0, float(ev.confidence))
    outcome = decide(r, FLOORS["intent"])
    turn.update(decision=outcome, asr_confidence=round(r.asr, 3))
    if outcome == "accept":
        return True
    run.st.unsure += 1
    prompt = question(run, step, value) if outcome == "confirm" else None
    if prompt is not None:
        run.st.pending = value
        run.say(prompt, run.key("confirm"))
        run.listen(step, confirm=True)
        return False
    said = heard(run, ev.text)
    turn["heard_unsure"] = said
    run.nomatch(step, error=heard_back(said))
    return False


def confirm_answer(run: _Run, step: CollectStep, ev: UserInput, turn: dict[str, Any]) -> tuple[bool | None, bool]:
    """The caller's yes/no to a confirmation: (True / False, False) only when it is
    sure; (None, True) when an answer was heard but not surely — a misheard yes
    must not take the caller into a service they did not ask for — and the
    question was asked again, saying what was heard; (None, False) when there
    was no answer in it (the executor's no-match)."""
    r = reading(run.d.nlu, "yes_no", ev.text, run.st.language, None, ev.confidence)
    outcome = decide(r, FLOORS["yes_no"])
    turn.update(decision=outcome, asr_confidence=round(r.asr, 3))
    if outcome == "accept":
        return bool(r.value), False
    if r.value is None:
        return None, False
    run.st.unsure += 1
    said = heard(run, ev.text)
    turn["heard_unsure"] = said
    run.nomatch(step, error=heard_back(said))
    return None, True


def keys_round_due(run: _Run, step: CollectStep) -> bool:
    """Misses spent at a menu or yes/no where some answer was unsure: one round on keys first."""
    from ivr.dialog.policy import choices

    keyed = step.type == "yes_no" or bool(choices(step))
    return step.type in KINDS and keyed and run.st.unsure > 0 and not run.st.keys_only and not step.protective
