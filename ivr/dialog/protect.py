"""Decisions that must never be taken on a guess, and confirming what was heard.

A collect step marked ``protective: true`` (blocking a card, changing a PIN,
a payment) is decided only by a clear voice yes/no or by key 1/2. Anything
else — a hedge ("應該是吧"), an answer that contradicts itself, an answer only
heard by sound (撲退 for 不對), a transcript the recognizer itself is unsure of
(Whisper heard a bare 嗯 as 沒有 at confidence 0.26), any other key — asks
again, saying back what it heard; it neither takes the action nor cancels it.
When the retries are spent the caller is asked once to use the keys, and
after that the call goes to an agent.

Closed-set menus: when the NLU heard a service but is not sure of it (a weak
classifier score, or a key phrase matched by sound: 掛石 for 掛失), the dialog
asks "請問您是要掛失卡片嗎？" instead of guessing or reprompting blind."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ivr.dialog.models import CollectStep, HandoffSpec, Prompt
from ivr.dialog.policy import LANG_LABELS
from ivr.frames import UserInput
from ivr.log import get_logger

if TYPE_CHECKING:
    from ivr.dialog.engine import _Run

log = get_logger(__name__)

UNSURE = Prompt.model_validate({"zh-TW": "不好意思，這個步驟需要您明確回答是或不是。",
                                "nan-TW": "歹勢，這个步驟愛請你講明是抑毋是。"})
KEYS_ONLY = Prompt.model_validate({"zh-TW": "為了確保正確，請用電話按鍵回答：確定請按1，取消請按2。",
                                   "nan-TW": "為著穩當，請用電話揤：確定請揤1，取消請揤2。"})
# A voice yes/no must be at least this sure to decide a protective step: the NLU's
# confidence in the words ...
MIN_VOICE_CONFIDENCE = 0.85
# ... and the recognizer's in the transcript (UserInput.confidence; for Whisper
# base, exp of the mean token log-probability). bench/yes_no_confidence.py, 216
# yes/no turns (the audio fixtures' answers and the understanding set's yes/no
# lines in five synthetic voices; clean, telephone, 10 dB): answers the NLU took
# right had confidence p10 0.24 / median 0.44, the 7 it took wrong 0.26-0.39
# (the session's 嗯 heard as 沒有: 0.26). 0.4 is the lowest floor that let no
# wrong answer decide; 88 of the 139 right ones still decide, the rest are asked
# again. A grammar recognizer's accepted phrase is above it (Taiwanese: >= 0.65).
MIN_ASR_CONFIDENCE = 0.4
# what was heard is said back at most this long
HEARD_MAX_CHARS = 12


def is_protective_turn(step: CollectStep, waiting: str | None) -> bool:
    """The turn decides a protective step: its own yes/no, or the yes/no confirming its value."""
    return step.protective and (waiting == "confirm" or (waiting == "input" and step.type == "yes_no"))


def decide(run: _Run, step: CollectStep, ev: UserInput) -> bool | None:
    """True / False only when the caller was explicit; None means ask again."""
    return read(run, step, ev)[0]


def read(run: _Run, step: CollectStep, ev: UserInput) -> tuple[bool | None, str]:
    """(decision, what was heard when a voice answer was there but not sure enough:
    a low recognizer confidence or an answer only heard by sound — said back as a
    question when the step asks again)."""
    keys = ev.dtmf.rstrip("#")
    if keys:
        mapped = step.dtmf.get(keys) if run.st.waiting == "input" else None
        if isinstance(mapped, bool):
            return mapped, ""
        return {"1": True, "2": False}.get(keys), ""
    if not ev.text.strip():
        return None, ""
    nlu = run.d.nlu
    try:
        if hasattr(nlu, "understand"):
            u = nlu.understand("yes_no", ev.text, run.st.language)
            if not isinstance(u.value, bool):
                return None, ""
            sure = u.outcome == "accept" and u.confidence >= MIN_VOICE_CONFIDENCE
            if sure and ev.confidence >= MIN_ASR_CONFIDENCE:
                return u.value, ""
            return None, u.heard or _heard(run, ev.text)
        value = nlu.extract("yes_no", ev.text, run.st.language)
    except Exception:  # an NLU failure is "not clear": ask again, never decide
        log.exception("yes/no understanding failed", extra={"call_id": run.st.call_id})
        return None, ""
    if isinstance(value, bool) and ev.confidence >= MIN_ASR_CONFIDENCE:
        return value, ""
    return None, ""


def _heard(run: _Run, text: str) -> str:
    clean = run.d.nlu.normalize(text) if hasattr(run.d.nlu, "normalize") else text.strip()
    return "".join(c for c in clean if c not in "{}")[:HEARD_MAX_CHARS]


def heard_back(heard: str) -> Prompt:
    """What was heard, said back before the step's own question is asked again. A
    statement, not a second question: a "不是" to "您是說沒有嗎？" would be taken as
    the answer to the card question that follows it."""
    return Prompt.model_validate({"zh-TW": f"不好意思，我聽到的好像是「{heard}」，但不太確定。",
                                  "nan-TW": f"歹勢，我聽著的親像是「{heard}」，毋過無蓋確定。"})


def on_protective(run: _Run, step: CollectStep, ev: UserInput, turn: dict[str, Any]) -> None:
    st = run.st
    value, heard = read(run, step, ev)
    turn["decision"] = "unclear" if value is None else "yes" if value else "no"
    if value is None:
        if heard and not step.secret:
            turn["heard_unsure"] = heard
            return run.nomatch(step, error=heard_back(heard))
        return run.nomatch(step, error=step.no_match or UNSURE)
    if st.waiting == "confirm":
        if value:
            return run.accept(step, st.pending, turn, confirmed=True)
        return run.nomatch(step, retry_prompt=False)  # a clear no: ask for the value again
    run.accept(step, value, turn)


def exhausted(run: _Run, step: CollectStep, why: str) -> None:
    """Retries spent on a protective step: one round on the keys, then an agent."""
    st = run.st
    if st.no_input + st.no_match == run._retries(step) + 1:
        run.say(KEYS_ONLY, run.key("keys_only"))
        if st.waiting == "confirm":
            run.listen(step, confirm=True)
        else:
            run.listen(step)
        return
    st.last_error = why
    target = step.on_exhausted or run.flow.defaults.on_exhausted
    target = target if isinstance(target, HandoffSpec) else None
    run.handoff(target or HandoffSpec(queue="T1", reason=f"protective_unconfirmed:{st.flow}/{step.id}"))


# ------------------------------------------------------- menu confirmation
def offer_confirmation(run: _Run, step: CollectStep, ev: UserInput, turn: dict[str, Any]) -> bool:
    """At an intent step whose answer was not accepted: if the NLU heard a likely
    service, ask whether that is it. True when the question was asked."""
    nlu = run.d.nlu
    if step.type != "intent" or not ev.text.strip() or not hasattr(nlu, "understand"):
        return False
    candidates = list(step.intents) or [v for v in step.dtmf.values() if isinstance(v, str)]
    try:
        u = nlu.understand("intent", ev.text, run.st.language, candidates=candidates,
                           min_confidence=step.min_confidence)
    except Exception:  # no confirmation offered; the caller is simply asked again
        log.exception("intent understanding failed", extra={"call_id": run.st.call_id})
        return False
    if u.outcome != "confirm" or u.value is None or question(run, step, u.value) is None:
        return False
    turn["heard"] = u.value
    run.st.pending = u.value
    run.say(question(run, step, u.value), run.key("confirm"))
    run.listen(step, confirm=True)
    return True


# The built-in question is asked only after an answer the dialog was unsure of: it says
# which keys answer it, since the menu just gave 1 and 2 other meanings (bench/scenarios_revoiced.py:
# callers the recogniser had missed once could not go on by keys at this question).
YES_NO_KEYS = {"zh-TW": "是請按1，不是請按2。", "nan-TW": "是請揤1，毋是請揤2。"}


def question(run: _Run, step: CollectStep, value: Any) -> Prompt | None:
    """The step's own confirm prompt, or "請問您是要{label}嗎？是請按1，不是請按2。" for an
    intent ("請問您是要用台語嗎？…" for the language choice)."""
    if step.confirm is not None:
        return step.confirm
    if step.type == "intent" and value in LANG_LABELS:
        names = LANG_LABELS[value]
        return _with_keys(f"請問您是要用{names['zh-TW']}嗎？", f"請問你是欲用{names['nan-TW']}無？")
    if step.type != "intent" or not isinstance(value, str) or not hasattr(run.d.nlu, "describe"):
        return None
    zh, nan = run.d.nlu.describe(value, "zh-TW"), run.d.nlu.describe(value, "nan-TW")
    if not zh:
        return None
    return _with_keys(f"請問您是要{zh}嗎？", f"請問你是欲{nan or zh}無？")


def _with_keys(zh: str, nan: str) -> Prompt:
    return Prompt.model_validate({"zh-TW": zh + YES_NO_KEYS["zh-TW"], "nan-TW": nan + YES_NO_KEYS["nan-TW"]})
